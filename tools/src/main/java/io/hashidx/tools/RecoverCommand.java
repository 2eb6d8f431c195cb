package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import io.hashidx.store.Salvage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx recover}: copies what can still be read from a damaged file into a new one. */
@Command(name = "recover", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Copies every entry still readable from a damaged file into a new file OUT, and reports what "
                    + "could not be read.",
            "",
            "DAMAGED is opened read-only and never changed. OUT (which must not exist) gets DAMAGED's key "
                    + "width, value width and hash seed, presized for the entry count DAMAGED recorded. Entries "
                    + "are read as lookups see them: while a growth is under way, from the old buckets not yet "
                    + "evacuated and from the new buckets whose old bucket is, so of two copies of a key the one a "
                    + "lookup finds wins. A chain is followed until a link leaves the file or comes back to a page "
                    + "already read; a slot whose lengths exceed the widths or whose tophash does not match its key "
                    + "is not read. Each problem is listed with its file offset.",
            "",
            "When one header copy is damaged, the other is used. When both are, a copy whose fields are "
                    + "consistent (only its checksum fails) is used; otherwise every cell of the file is scanned, "
                    + "with the widths a damaged copy still holds or, failing that, --key-size and --value-size. "
                    + "A scan cannot tell a stale copy from an entry: a key met with two values is reported as a "
                    + "conflict, the first value met is kept, and the result never counts as complete.",
            "",
            "Examples:",
            "  hashidx recover damaged.hidx rescued.hidx",
            "  hashidx recover --key-size 16 --value-size 64 --json header-wiped.hidx rescued.hidx",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:every entry DAMAGED recorded was recovered (problems may still be listed, e.g. a damaged header copy)",
            "1:entries were lost, or the result cannot be vouched for (a scan, an unreadable entry count)",
            "2:error: usage (e.g. OUT exists), or DAMAGED cannot be read at all (missing, locked, not a hashidx file, "
                    + "both header copies unusable without --key-size/--value-size); the message starts with its code"})
final class RecoverCommand extends ToolCommand {
    @Parameters(index = "0", paramLabel = "DAMAGED", description = "the damaged index file")
    Path damaged;

    @Parameters(index = "1", paramLabel = "OUT", description = "the new index file; must not exist")
    Path out;

    @Option(names = "--key-size", paramLabel = "K",
            description = "key width to scan with when no header copy holds usable widths")
    Integer keySize;

    @Option(names = "--value-size", paramLabel = "V",
            description = "value width to scan with when no header copy holds usable widths")
    Integer valueSize;

    @Option(names = "--json", description = "print one JSON object with snake_case keys")
    boolean json;

    /** Whether the damaged file has variable lengths (the copy gets them too). */
    private boolean variable;

    @Override
    public Integer call() throws IOException {
        if (Files.exists(out)) {
            throw usageError("OUT " + out + " exists; recover writes a new file (delete it, or choose another name)");
        }
        if ((keySize == null) != (valueSize == null)) {
            throw usageError("give both --key-size and --value-size, or neither");
        }
        Options fallback = keySize == null ? null : Options.widths(keySize, valueSize);
        Salvage.Report report;
        try (Salvage salvage = Salvage.open(damaged, fallback)) {
            variable = salvage.variableLengths();
            Options options = (variable ? Options.variableLengths(salvage.keyWidth(), salvage.valueWidth())
                    : Options.widths(salvage.keyWidth(), salvage.valueWidth()))
                    .expectedEntries(Math.max(0, salvage.expectedEntries()));
            if (salvage.seed().isPresent()) {
                options = options.seed(salvage.seed().getAsLong());
            }
            try (HashIndex copy = HashIndex.create(out, options)) {
                report = salvage.copyTo(copy::put);
                copy.sync();
            } catch (RuntimeException e) {
                Files.deleteIfExists(out);
                throw e;
            }
        }
        if (json) {
            out().println(Json.write(json(report)));
        } else {
            text(report);
        }
        return report.complete() ? 0 : Main.NOT_FOUND_OR_PROBLEMS;
    }

    private Map<String, Object> json(Salvage.Report r) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("path", damaged.toString());
        o.put("out", out.toString());
        o.put("header", r.header());
        o.put("variable_lengths", variable);
        o.put("key_size", variable ? null : r.keyWidth());
        o.put("value_size", variable ? null : r.valueWidth());
        o.put("seed", r.seed().isPresent() ? Figures.hex64(r.seed().getAsLong()) : null);
        o.put("scanned", r.scanned());
        o.put("expected_entries", r.expectedEntries() < 0 ? null : r.expectedEntries());
        o.put("recovered_entries", r.recoveredEntries());
        o.put("lost_entries", r.lostEntries() < 0 ? null : r.lostEntries());
        o.put("unreadable_slots", r.unreadableSlots());
        o.put("chains_cut", r.chainsCut());
        o.put("missing_cells", r.missingCells());
        o.put("pages_read", r.pagesRead());
        o.put("complete", r.complete());
        List<Map<String, Object>> problems = new ArrayList<>();
        for (Salvage.Problem p : r.problems()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", p.kind());
            m.put("file_offset", p.fileOffset() < 0 ? null : p.fileOffset());
            m.put("description", p.description());
            problems.add(m);
        }
        o.put("problems", problems);
        o.put("problems_omitted", r.problemsOmitted());
        return o;
    }

    private void text(Salvage.Report r) {
        PrintWriter w = out();
        String of = r.expectedEntries() < 0 ? "" : " of " + Figures.count(r.expectedEntries());
        w.println("recovered " + Figures.count(r.recoveredEntries()) + of + " entries from " + damaged + " into " + out);
        line(w, "header", r.header());
        if (variable) {
            line(w, "lengths", "variable (inline up to " + r.keyWidth() + " and " + r.valueWidth() + " bytes)");
        } else {
            line(w, "key width", r.keyWidth() + " bytes");
            line(w, "value width", r.valueWidth() + " bytes");
        }
        line(w, "seed", r.seed().isPresent() ? Figures.hex64(r.seed().getAsLong()) : "unknown (OUT has a new one)");
        line(w, "entries recorded", r.expectedEntries() < 0 ? "unknown" : Figures.count(r.expectedEntries()));
        line(w, "entries recovered", Figures.count(r.recoveredEntries()));
        line(w, "entries lost", r.lostEntries() < 0 ? "unknown" : Figures.count(r.lostEntries()));
        line(w, "unreadable slots", Figures.count(r.unreadableSlots()));
        line(w, "chains cut", Figures.count(r.chainsCut()));
        line(w, "missing cells", Figures.count(r.missingCells()));
        line(w, "pages read", Figures.count(r.pagesRead()));
        line(w, "problems", Figures.count(r.problems().size() + r.problemsOmitted()));
        for (Salvage.Problem p : r.problems()) {
            w.printf("  %-14s %-16s %s%n", p.fileOffset() < 0 ? "-" : "offset " + p.fileOffset(), p.kind(), p.description());
        }
        if (r.problemsOmitted() > 0) {
            w.println("  ... and " + Figures.count(r.problemsOmitted()) + " more");
        }
        w.println(r.complete() ? "complete: every entry the file recorded was recovered"
                : r.scanned() ? "incomplete: no header copy was usable, the result of a scan cannot be vouched for"
                : "incomplete: entries were lost or could not be read");
    }

    private static void line(PrintWriter w, String label, String value) {
        w.printf("%-20s%s%n", label, value);
    }
}
