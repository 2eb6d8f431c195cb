package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Inspection;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx inspect}: what {@link HashIndex#inspect()} finds, as text or JSON. */
@Command(name = "inspect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Shows a file's geometry, growth state, space use and hash quality.",
            "",
            "Prints FILE's format, geometry, growth state, space use, bucket occupancy, chain lengths and "
                    + "a chi-square test of the tophash bytes (a skewed result hints at a poor hash seed or "
                    + "adversarial keys). Scans the whole file; opens it read-only.",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:inspected",
            "2:usage error",
            "3:hashidx error (the message starts with its code, e.g. HIDX-001)"})
final class InspectCommand extends ToolCommand {
    /** Degrees of freedom of the tophash test: tophash values 5..255 are 251 cells (see {@link Inspection}). */
    static final int TOPHASH_DEGREES_OF_FREEDOM = 250;
    /** The standard normal quantile for 0.999, Φ⁻¹(0.999). */
    static final double Z_999 = 3.090232306167813;
    /** Below this many expected entries per tophash cell the chi-square test says little. */
    static final int MIN_EXPECTED_PER_CELL = 5;
    private static final int BAR_WIDTH = 40;

    @Parameters(index = "0", paramLabel = "FILE", description = "the index file")
    Path file;

    @Option(names = "--json", description = "print one JSON object with snake_case keys")
    boolean json;

    @Override
    public Integer call() {
        Inspection in;
        try (HashIndex idx = HashIndex.openReadOnly(file)) {
            in = idx.inspect();
        }
        if (json) {
            out().println(Json.write(toJson(in)));
        } else {
            printText(out(), in);
        }
        return 0;
    }

    /**
     * The chi-square value that a variable with {@code dof} degrees of freedom exceeds with probability
     * 1 - Φ(z), by the Wilson–Hilferty approximation: dof · (1 − 2/(9·dof) + z·√(2/(9·dof)))³.
     */
    static double chiSquareCriticalValue(int dof, double z) {
        double a = 2.0 / (9.0 * dof);
        double c = 1 - a + z * Math.sqrt(a);
        return dof * c * c * c;
    }

    /** "uniform", "skewed", or "too few entries" when the test would say little. */
    static String tophashVerdict(Inspection in) {
        long tophashEntries = 0;
        for (long c : in.tophashCounts()) {
            tophashEntries += c;
        }
        if (tophashEntries < (long) MIN_EXPECTED_PER_CELL * 256) {
            return "too few entries";
        }
        return in.tophashChiSquare() <= chiSquareCriticalValue(TOPHASH_DEGREES_OF_FREEDOM, Z_999) ? "uniform" : "skewed";
    }

    private static void printText(PrintWriter out, Inspection in) {
        line(out, "file", in.path());
        line(out, "format", "read version " + in.readVersion() + ", write version " + in.writeVersion());
        line(out, "widths", "key " + in.keyWidth() + " bytes, value " + in.valueWidth() + " bytes");
        line(out, "seed", Figures.hex64(in.seed()));
        line(out, "header copy A", headerCopy(in.copyA()));
        line(out, "header copy B", headerCopy(in.copyB()));
        line(out, "entries", Figures.count(in.entries()));
        line(out, "buckets", Figures.count(in.buckets()));
        line(out, "load factor", Figures.decimal(in.loadFactor(), 2) + " entries per bucket");
        line(out, "growths", Figures.count(in.doublings()) + " doublings, "
                + Figures.count(in.sameSizeGrowths()) + " same-size");
        Inspection.Growth g = in.growth();
        if (g.growing()) {
            line(out, "growth", "growing (" + (g.sameSize() ? "same-size" : "doubling") + "): "
                    + Figures.count(g.evacuated()) + " of " + Figures.count(g.oldBuckets()) + " old buckets evacuated ("
                    + Figures.decimal(g.percent(), 1) + "%), all below " + Figures.count(g.evacuatedMark()));
        } else {
            line(out, "growth", "not growing");
        }
        line(out, "overflow pages", Figures.count(in.overflowPages()) + " ("
                + Figures.decimal(in.overflowPercent(), 1) + "% of buckets)");
        line(out, "free pages", Figures.count(in.freePages()));
        line(out, "retired pages", Figures.count(in.retiredPages()));
        line(out, "page bytes", Figures.count(in.pageBytes()));
        line(out, "file bytes", Figures.bytes(in.fileBytes()));
        line(out, "bytes per entry", Figures.decimal(in.bytesPerEntry(), 1));
        line(out, "overhead ratio", Figures.decimal(in.overheadRatio(), 2) + " file bytes per key+value byte ("
                + Figures.count(in.rawKeyValueBytes()) + " key+value bytes)");
        line(out, "growth slack", Figures.bytes(in.growthSlackBytes())
                + (in.compactWouldPayOff() ? " - compact would pay off" : ""));
        out.println();
        out.println("occupancy (entries in a bucket's primary page: buckets)");
        histogram(out, in.occupancy());
        out.println();
        out.println("chain lengths (overflow pages chained on a bucket: buckets)");
        histogram(out, in.chainLengths());
        out.println();
        double critical = chiSquareCriticalValue(TOPHASH_DEGREES_OF_FREEDOM, Z_999);
        line(out, "tophash chi-square", Figures.decimal(in.tophashChiSquare(), 1) + " (" + TOPHASH_DEGREES_OF_FREEDOM
                + " degrees of freedom, 99.9% critical value " + Figures.decimal(critical, 1) + "): "
                + tophashVerdict(in));
    }

    private static String headerCopy(Inspection.HeaderCopy copy) {
        return "generation " + copy.generation() + ", " + (copy.valid() ? "valid" : "damaged");
    }

    private static void line(PrintWriter out, String label, String value) {
        out.printf("%-20s%s%n", label, value);
    }

    private static void histogram(PrintWriter out, long[] counts) {
        long max = 1;
        for (long c : counts) {
            max = Math.max(max, c);
        }
        int labelWidth = String.valueOf(counts.length - 1).length();
        for (int k = 0; k < counts.length; k++) {
            int bar = (int) Math.round((double) counts[k] * BAR_WIDTH / max);
            if (bar == 0 && counts[k] > 0) {
                bar = 1;
            }
            out.printf("  %" + labelWidth + "d %-" + BAR_WIDTH + "s %s%n", k, "#".repeat(bar), Figures.count(counts[k]));
        }
    }

    private static Map<String, Object> toJson(Inspection in) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("path", in.path());
        o.put("file_bytes", in.fileBytes());
        o.put("read_version", in.readVersion());
        o.put("write_version", in.writeVersion());
        o.put("key_size", in.keyWidth());
        o.put("value_size", in.valueWidth());
        o.put("seed", Figures.hex64(in.seed()));
        o.put("header_copies", List.of(headerCopyJson("A", in.copyA()), headerCopyJson("B", in.copyB())));
        o.put("entries", in.entries());
        o.put("buckets", in.buckets());
        o.put("doublings", in.doublings());
        o.put("same_size_growths", in.sameSizeGrowths());
        Inspection.Growth g = in.growth();
        Map<String, Object> growth = new LinkedHashMap<>();
        growth.put("growing", g.growing());
        growth.put("same_size", g.sameSize());
        growth.put("old_buckets", g.oldBuckets());
        growth.put("evacuated", g.evacuated());
        growth.put("evacuated_mark", g.evacuatedMark());
        growth.put("percent", g.percent());
        growth.put("old_overflow_pages", g.oldOverflowPages());
        o.put("growth", growth);
        o.put("load_factor", in.loadFactor());
        o.put("overflow_pages", in.overflowPages());
        o.put("overflow_percent", in.overflowPercent());
        o.put("free_pages", in.freePages());
        o.put("retired_pages", in.retiredPages());
        o.put("allocated_pages", in.allocatedPages());
        o.put("page_bytes", in.pageBytes());
        o.put("raw_key_value_bytes", in.rawKeyValueBytes());
        o.put("bytes_per_entry", in.bytesPerEntry());
        o.put("overhead_ratio", in.overheadRatio());
        o.put("growth_slack_bytes", in.growthSlackBytes());
        o.put("compact_would_pay_off", in.compactWouldPayOff());
        o.put("occupancy", in.occupancy());
        o.put("chain_lengths", in.chainLengths());
        o.put("tophash_counts", in.tophashCounts());
        o.put("tophash_chi_square", in.tophashChiSquare());
        o.put("tophash_degrees_of_freedom", TOPHASH_DEGREES_OF_FREEDOM);
        o.put("tophash_critical_value", chiSquareCriticalValue(TOPHASH_DEGREES_OF_FREEDOM, Z_999));
        o.put("tophash_verdict", tophashVerdict(in));
        return o;
    }

    private static Map<String, Object> headerCopyJson(String name, Inspection.HeaderCopy copy) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("copy", name);
        m.put("generation", copy.generation());
        m.put("valid", copy.valid());
        return m;
    }
}
