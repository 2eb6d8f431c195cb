package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import io.hashidx.store.HashIndexException;
import io.hashidx.store.Options;
import io.hashidx.store.Plan;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hashidx plan}: what a file presized for N entries will look like, from {@link HashIndex#plan}. */
@Command(name = "plan", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Shows what a file presized for N entries will be, without creating it.",
            "",
            "Prints the bucket count, the overflow pages set aside, the file size and bytes per entry that "
                    + "'hashidx create --expected N' (or a load of N lines) lays out, and the share of "
                    + "buckets expected to need an overflow page at the planned load: the Poisson tail "
                    + "P(X > 8) for a mean of N / buckets entries per bucket (about 20.8%% at the maximum "
                    + "load of 6.5).",
            "",
            "Example:",
            "  hashidx plan --expected 10000000 --key-size 16 --value-size 16",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:planned",
            "2:error: usage (e.g. a width out of range)"})
final class PlanCommand extends ToolCommand {
    @Option(names = "--expected", paramLabel = "N", required = true, description = "entries to presize for")
    long expected;

    @Option(names = "--key-size", paramLabel = "K", required = true, description = "key width in bytes")
    int keySize;

    @Option(names = "--value-size", paramLabel = "V", required = true, description = "value width in bytes")
    int valueSize;

    @Option(names = "--json", description = "print one JSON object with snake_case keys")
    boolean json;

    @Override
    public Integer call() {
        Options options;
        try {
            options = Options.widths(keySize, valueSize).expectedEntries(expected);
        } catch (HashIndexException e) {
            throw usageError(e.getMessage());
        }
        Plan plan = HashIndex.plan(options);
        double load = (double) expected / plan.buckets();
        double overflowPercent = 100 * poissonTailAbove(8, load);
        double bytesPerEntry = expected == 0 ? 0 : (double) plan.fileBytes() / expected;
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("expected_entries", expected);
            o.put("key_size", keySize);
            o.put("value_size", valueSize);
            o.put("buckets", plan.buckets());
            o.put("load_factor", load);
            o.put("reserved_overflow_pages", plan.reservedOverflowPages());
            o.put("page_bytes", plan.pageBytes());
            o.put("file_bytes", plan.fileBytes());
            o.put("expected_overflow_percent", overflowPercent);
            o.put("bytes_per_entry", bytesPerEntry);
            out().println(Json.write(o));
            return 0;
        }
        PrintWriter out = out();
        out.println("plan for " + Figures.count(expected) + " entries, key width " + keySize
                + " bytes, value width " + valueSize + " bytes");
        line(out, "buckets", Figures.count(plan.buckets()) + " (load " + Figures.decimal(load, 2) + ")");
        line(out, "overflow reserved", Figures.count(plan.reservedOverflowPages()) + " pages");
        line(out, "page bytes", Figures.count(plan.pageBytes()));
        line(out, "file bytes", Figures.bytes(plan.fileBytes()));
        line(out, "expected overflow", Figures.decimal(overflowPercent, 1) + "% of buckets");
        line(out, "bytes per entry", Figures.decimal(bytesPerEntry, 1));
        return 0;
    }

    /** P(X > k) for X ~ Poisson(mean). */
    static double poissonTailAbove(int k, double mean) {
        if (mean <= 0) {
            return 0;
        }
        double term = Math.exp(-mean);
        double atMostK = 0;
        for (int i = 0; i <= k; i++) {
            atMostK += term;
            term *= mean / (i + 1);
        }
        return Math.max(0, 1 - atMostK);
    }

    private static void line(PrintWriter out, String label, String value) {
        out.printf("%-20s%s%n", label, value);
    }
}
