package io.hashidx.tools;

import io.hashidx.store.BucketView;
import io.hashidx.store.HashIndex;
import io.hashidx.store.Inspection;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
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
                    + "adversarial keys). Scans the whole file; opens it read-only. The text shows summaries; "
                    + "--histograms adds the occupancy, chain-length and full tophash histograms.",
            "",
            "With --bucket N, shows bucket N of the current array instead: each page of its overflow chain "
                    + "(cell, file offset, overflow link) and each slot (tophash and its meaning, key, value); "
                    + "while a growth is under way and the bucket's old bucket is not evacuated, the old bucket too.",
            "",
            "FILE is opened read-only, never with the write lock: other readers may go on, and writers wait "
                    + "while it scans. A file that another process is writing is refused (HIDX-004) rather than "
                    + "scanned while it changes; inspect a copy made with 'hashidx backup' instead. The --json "
                    + "keys are listed in the README.",
            "",
            "Examples:",
            "  hashidx inspect demo.hidx",
            "  hashidx inspect demo.hidx --histograms",
            "  hashidx inspect demo.hidx --bucket 17",
            "  hashidx inspect demo.hidx --json",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:inspected",
            "2:error: usage, a bucket out of range, or FILE cannot be read (the message starts with its code, e.g. HIDX-001)"})
final class InspectCommand extends ToolCommand {
    /** Degrees of freedom of the tophash test: tophash values 5..255 are 251 cells (see {@link Inspection}). */
    static final int TOPHASH_DEGREES_OF_FREEDOM = 250;
    /** The standard normal quantile for 0.999, Φ⁻¹(0.999). */
    static final double Z_999 = 3.090232306167813;
    /** Below this many expected entries per tophash cell the chi-square test says little. */
    static final int MIN_EXPECTED_PER_CELL = 5;
    private static final int BAR_WIDTH = 40;
    /** Chain-length histograms longer than this are shown by their non-zero rows only. */
    static final int SHORT_HISTOGRAM = 16;

    @Parameters(index = "0", paramLabel = "FILE", description = "the index file")
    Path file;

    @Option(names = "--json", description = "print one JSON object with snake_case keys")
    boolean json;

    @Option(names = "--histograms", description = "text: add the occupancy, chain-length and tophash histograms")
    boolean histograms;

    @Option(names = "--bucket", paramLabel = "N", description = "show bucket N of the current array, slot by slot")
    Long bucket;

    @Override
    public Integer call() {
        try (HashIndex idx = openForReading(file)) {
            if (bucket != null) {
                if (bucket < 0) {
                    throw usageError("--bucket " + bucket + " is negative; buckets are numbered from 0");
                }
                BucketView view = whileNobodyWrites(file, () -> idx.inspectBucket(bucket));
                if (json) {
                    out().println(Json.write(bucketJson(file, view)));
                } else {
                    printBucket(out(), file, view);
                }
                return 0;
            }
            Inspection in = whileNobodyWrites(file, idx::inspect);
            if (json) {
                out().println(Json.write(toJson(in)));
            } else {
                printText(out(), file, in, histograms);
            }
            return 0;
        }
    }

    // ---- one bucket ----

    private static void printBucket(PrintWriter out, Path file, BucketView v) {
        line(out, "file", file.toString());
        line(out, "bucket", v.bucket() + " of " + Figures.count(v.buckets()));
        if (v.growing()) {
            line(out, "growth", "growing; old bucket " + v.oldBucket() + (v.oldEvacuated()
                    ? " is evacuated: this bucket holds its entries"
                    : " is NOT evacuated: its entries are still in the old bucket (shown below); this bucket "
                    + "may hold only an interrupted copy"));
        }
        printPages(out, "", v.pages());
        if (!v.oldPages().isEmpty()) {
            out.println();
            out.println("old bucket " + v.oldBucket() + " (not evacuated)");
            printPages(out, "", v.oldPages());
        }
        if (v.chainProblem() != null) {
            out.println();
            line(out, "chain problem", v.chainProblem());
        }
    }

    private static void printPages(PrintWriter out, String indent, List<BucketView.Page> pages) {
        for (int p = 0; p < pages.size(); p++) {
            BucketView.Page page = pages.get(p);
            out.printf("%s%s cell %d at file offset %d (0x%x), overflow %s%n", indent,
                    p == 0 ? "primary page" : "overflow page " + p, page.cell(), page.fileOffset(), page.fileOffset(),
                    page.overflowCell() < 0 ? "none" : "cell " + page.overflowCell());
            for (BucketView.Slot slot : page.slots()) {
                StringBuilder sb = new StringBuilder();
                sb.append(String.format("%s  slot %d  tophash %3d %-16s", indent, slot.index(), slot.tophash(),
                        slot.state().equals("tophash") ? "entry" : slot.state()));
                if (slot.key() != null) {
                    sb.append(" key ").append(printable(slot.key())).append("  value ").append(printable(slot.value()));
                } else if (slot.state().equals("tophash")) {
                    sb.append(" (damaged: its key or value length is out of range; see 'hashidx verify')");
                }
                out.println(sb.toString().stripTrailing());
            }
        }
    }

    /** UTF-8 text without control characters, else {@code 0x}-prefixed hex. */
    static String printable(byte[] bytes) {
        String s = ByteStrings.display(bytes, false);
        if (!s.startsWith("0x") && s.chars().allMatch(c -> c >= 0x20 && c != 0x7f) && !s.isEmpty()) {
            return "\"" + s + "\"";
        }
        return "0x" + ByteStrings.hex(bytes);
    }

    private static Map<String, Object> bucketJson(Path file, BucketView v) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("path", file.toString());
        o.put("bucket", v.bucket());
        o.put("buckets", v.buckets());
        o.put("growing", v.growing());
        if (v.growing()) {
            o.put("old_bucket", v.oldBucket());
            o.put("old_bucket_evacuated", v.oldEvacuated());
        }
        o.put("pages", pagesJson(v.pages()));
        o.put("old_pages", pagesJson(v.oldPages()));
        o.put("chain_problem", v.chainProblem());
        return o;
    }

    private static List<Object> pagesJson(List<BucketView.Page> pages) {
        List<Object> list = new ArrayList<>();
        for (BucketView.Page page : pages) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("cell", page.cell());
            p.put("file_offset", page.fileOffset());
            p.put("overflow_cell", page.overflowCell() < 0 ? null : page.overflowCell());
            List<Object> slots = new ArrayList<>();
            for (BucketView.Slot slot : page.slots()) {
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("index", slot.index());
                s.put("tophash", slot.tophash());
                s.put("state", slot.state());
                if (slot.key() != null) {
                    s.put("key", printable(slot.key()));
                    s.put("value", printable(slot.value()));
                    s.put("key_hex", ByteStrings.hex(slot.key()));
                    s.put("value_hex", ByteStrings.hex(slot.value()));
                }
                slots.add(s);
            }
            p.put("slots", slots);
            list.add(p);
        }
        return list;
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

    private static void printText(PrintWriter out, Path file, Inspection in, boolean histograms) {
        line(out, "file", in.path());
        line(out, "format", "read version " + in.readVersion() + ", write version " + in.writeVersion());
        if (in.variableLengths()) {
            line(out, "lengths", "variable, up to 16 MiB each (inline up to key " + in.keyWidth() + " bytes, value "
                    + in.valueWidth() + " bytes)");
        } else {
            line(out, "widths", "key " + in.keyWidth() + " bytes, value " + in.valueWidth() + " bytes");
        }
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
            long factor = in.buckets() / g.oldBuckets();
            line(out, "growth", "growing (" + (g.sameSize() ? "same-size" : factor == 2 ? "doubling"
                    : "to " + Figures.count(factor) + " times the buckets, reserved") + "): "
                    + Figures.count(g.evacuated()) + " of " + Figures.count(g.oldBuckets()) + " old buckets evacuated ("
                    + Figures.decimal(g.percent(), 1) + "%), all below " + Figures.count(g.evacuatedMark()));
        } else {
            line(out, "growth", "not growing");
        }
        line(out, "overflow pages", Figures.count(in.overflowPages()) + " ("
                + Figures.decimal(in.overflowPercent(), 1) + "% of buckets)");
        if (in.variableLengths()) {
            line(out, "record pages", Figures.count(in.recordPages()) + " holding " + Figures.count(in.recordBytes())
                    + " key+value bytes of out-of-line entries, " + Figures.count(in.recordFreeBytes())
                    + " bytes unused at their ends (" + Figures.decimal(in.recordFragmentationPercent(), 1)
                    + "% fragmentation)");
        }
        line(out, "free pages", Figures.count(in.freePages()));
        line(out, "retired pages", Figures.count(in.retiredPages()));
        line(out, "page bytes", Figures.count(in.pageBytes()));
        line(out, "file bytes", Figures.bytes(in.fileBytes()));
        line(out, "bytes per entry", Figures.decimal(in.bytesPerEntry(), 1));
        line(out, "overhead ratio", Figures.decimal(in.overheadRatio(), 2) + " file bytes per key+value byte ("
                + Figures.count(in.rawKeyValueBytes()) + " key+value bytes)");
        line(out, "growth slack", slack(file, in));
        line(out, "occupancy", occupancySummary(in.occupancy()));
        line(out, "chain lengths", chainSummary(in.chainLengths()));
        if (histograms) {
            out.println();
            out.println("occupancy (entries in a bucket's primary page: buckets)");
            histogram(out, in.occupancy());
            out.println();
            out.println("chain lengths (overflow pages chained on a bucket: buckets)");
            histogram(out, in.chainLengths());
            out.println();
            out.println("tophash distribution (entries per tophash value; 0..4 are marks, never counted)");
            long[] t = in.tophashCounts();
            for (int row = 0; row < t.length; row += 16) {
                StringBuilder sb = new StringBuilder(String.format("  %3d-%3d", row, row + 15));
                for (int v = row; v < row + 16; v++) {
                    sb.append(String.format(" %6d", t[v]));
                }
                out.println(sb);
            }
            out.println();
        }
        double critical = chiSquareCriticalValue(TOPHASH_DEGREES_OF_FREEDOM, Z_999);
        line(out, "tophash chi-square", Figures.decimal(in.tophashChiSquare(), 1) + " (" + TOPHASH_DEGREES_OF_FREEDOM
                + " degrees of freedom, 99.9% critical value " + Figures.decimal(critical, 1) + "): "
                + tophashVerdict(in));
    }

    /**
     * The slack, its share of the file, and when compacting would pay off, the command that does it and
     * what it gives back.
     */
    static String slack(Path file, Inspection in) {
        long slack = in.growthSlackBytes();
        if (slack <= 0) {
            return "0 (the file is no bigger than one presized for its entries)";
        }
        String share = Figures.bytes(slack) + ", " + Figures.decimal(100.0 * slack / in.fileBytes(), 1)
                + "% of the file";
        return in.compactWouldPayOff()
                ? share + ": 'hashidx compact " + file + "' would give it back"
                : share + " (too little for compact to pay off)";
    }

    /** "8 51 193 ... 1762 buckets hold 0..8 entries (mean 6.03)" from the occupancy histogram. */
    static String occupancySummary(long[] occupancy) {
        long buckets = 0;
        long entries = 0;
        for (int k = 0; k < occupancy.length; k++) {
            buckets += occupancy[k];
            entries += k * occupancy[k];
        }
        double mean = buckets == 0 ? 0 : (double) entries / buckets;
        return counts(occupancy) + " buckets hold 0.." + (occupancy.length - 1) + " entries in their primary page "
                + "(mean " + Figures.decimal(mean, 2) + ")";
    }

    /** "4257 1109 1 buckets have 0..2 overflow pages (79.3% none)" from the chain-length histogram. */
    static String chainSummary(long[] chains) {
        long buckets = 0;
        for (long c : chains) {
            buckets += c;
        }
        double none = buckets == 0 ? 100 : 100.0 * chains[0] / buckets;
        String share = " (" + Figures.decimal(none, 1) + "% none)";
        if (chains.length > SHORT_HISTOGRAM) {
            // only a damaged chain (a cycle) runs this long: name the lengths that occur
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < chains.length; k++) {
                if (chains[k] > 0) {
                    sb.append(sb.isEmpty() ? "" : ", ").append(chains[k]).append(" with ").append(k);
                }
            }
            return "buckets by overflow pages: " + sb + share + "; run 'hashidx verify'";
        }
        String range = chains.length == 1 ? "0" : "0.." + (chains.length - 1);
        return counts(chains) + " buckets have " + range + " overflow pages" + share;
    }

    /** A histogram's counts on one line, separated by spaces, without digit grouping. */
    private static String counts(long[] histogram) {
        StringBuilder sb = new StringBuilder();
        for (long c : histogram) {
            sb.append(sb.isEmpty() ? "" : " ").append(c);
        }
        return sb.toString();
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
            if (k >= SHORT_HISTOGRAM && counts[k] == 0) {
                continue; // the empty rows of a long (damaged) chain histogram
            }
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
        o.put("format_version", in.readVersion());
        o.put("read_version", in.readVersion());
        o.put("write_version", in.writeVersion());
        o.put("variable_lengths", in.variableLengths());
        o.put("key_size", in.variableLengths() ? null : in.keyWidth());
        o.put("value_size", in.variableLengths() ? null : in.valueWidth());
        o.put("inline_key_size", in.variableLengths() ? in.keyWidth() : null);
        o.put("inline_value_size", in.variableLengths() ? in.valueWidth() : null);
        o.put("seed", Figures.hex64(in.seed()));
        o.put("header_copies", List.of(headerCopyJson("A", in.copyA()), headerCopyJson("B", in.copyB())));
        o.put("count", in.entries());
        o.put("entries", in.entries());
        o.put("buckets", in.buckets());
        o.put("doublings", in.doublings());
        o.put("same_size_growths", in.sameSizeGrowths());
        Inspection.Growth g = in.growth();
        o.put("growing", g.growing());
        o.put("old_buckets", g.oldBuckets());
        o.put("evacuated", g.evacuated());
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
        o.put("record_pages", in.recordPages());
        o.put("record_bytes", in.recordBytes());
        o.put("record_free_bytes", in.recordFreeBytes());
        o.put("record_fragmentation_percent", in.recordFragmentationPercent());
        o.put("free_pages", in.freePages());
        o.put("retired_pages", in.retiredPages());
        o.put("allocated_pages", in.allocatedPages());
        o.put("page_bytes", in.pageBytes());
        o.put("raw_key_value_bytes", in.rawKeyValueBytes());
        o.put("bytes_per_entry", in.bytesPerEntry());
        o.put("overhead_ratio", in.overheadRatio());
        o.put("growth_slack_bytes", in.growthSlackBytes());
        o.put("compact_would_pay_off", in.compactWouldPayOff());
        o.put("occupancy_histogram", in.occupancy());
        o.put("occupancy", in.occupancy());
        o.put("chain_length_histogram", in.chainLengths());
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
