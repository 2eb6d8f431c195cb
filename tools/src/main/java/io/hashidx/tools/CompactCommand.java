package io.hashidx.tools;

import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Inspection;
import io.hashidx.store.Options;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx compact}: rewrites a grown file presized for its entries, then swaps it in atomically. */
@Command(name = "compact", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Rewrites FILE presized for its current entries, giving back the space growth left behind.",
            "",
            "Copies every entry into a new file with the same key width, value width and hash seed, "
                    + "presized for FILE's entry count, and forces it to disk. FILE is opened read-only "
                    + "while it is copied (a writer in another process is refused with HIDX-004 and cannot "
                    + "start meanwhile) and closed before the new file takes its place: without --to, the "
                    + "copy is written to FILE.compact-tmp in the same directory and then renamed over FILE "
                    + "in one atomic step, so a crash leaves either the old or the new file, never half of one. "
                    + "A FILE.compact-tmp left by a crashed earlier run is deleted first.",
            "",
            "With --to OUT the copy is written to OUT (which must not exist) and FILE is left as it is.",
            "",
            "Example:",
            "  hashidx compact grown.hidx",
            "  hashidx compact grown.hidx --to compacted.hidx",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:compacted",
            "2:usage error (e.g. OUT exists)",
            "3:hashidx error (the message starts with its code, e.g. HIDX-004), or the file could not be renamed"})
final class CompactCommand extends ToolCommand {
    static final String TEMPORARY_SUFFIX = ".compact-tmp";

    @Parameters(index = "0", paramLabel = "FILE", description = "the index file")
    Path file;

    @Option(names = "--to", paramLabel = "OUT", description = "write the compacted copy to OUT and leave FILE alone")
    Path to;

    @Option(names = "--json", description = "print one JSON object with snake_case keys")
    boolean json;

    @Override
    public Integer call() throws IOException {
        Path target;
        if (to != null) {
            if (Files.exists(to)) {
                throw usageError("OUT " + to + " exists; compact writes a new file (delete it, or choose another name)");
            }
            target = to;
        } else {
            target = file.resolveSibling(file.getFileName() + TEMPORARY_SUFFIX);
            Files.deleteIfExists(target); // left by a crashed earlier run
        }
        Inspection before;
        Inspection after;
        try (HashIndex source = HashIndex.openReadOnly(file)) {
            before = source.inspect();
            Options options = Options.widths(source.keyWidth(), source.valueWidth())
                    .expectedEntries(source.size())
                    .seed(source.seed());
            try (HashIndex copy = HashIndex.create(target, options)) {
                for (Iterator<Map.Entry<byte[], byte[]>> it = source.iterator(); it.hasNext(); ) {
                    Map.Entry<byte[], byte[]> e = it.next();
                    copy.put(e.getKey(), e.getValue());
                }
                copy.sync();
                after = copy.inspect();
            } catch (RuntimeException e) {
                if (to == null) {
                    Files.deleteIfExists(target);
                }
                throw e;
            }
        }
        if (to == null) {
            try {
                Files.move(target, file, ATOMIC_MOVE, REPLACE_EXISTING);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot rename " + target + " over " + file + ": " + e
                        + "; " + file + " is unchanged and the compacted copy is in " + target, e);
            }
        }
        Path written = to == null ? file : to;
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("path", file.toString());
            o.put("written", written.toString());
            o.put("entries_before", before.entries());
            o.put("entries_after", after.entries());
            o.put("file_bytes_before", before.fileBytes());
            o.put("file_bytes_after", after.fileBytes());
            o.put("growth_slack_bytes_before", before.growthSlackBytes());
            o.put("growth_slack_bytes_after", after.growthSlackBytes());
            out().println(Json.write(o));
        } else {
            PrintWriter out = out();
            out.println("compacted " + file + (to == null ? "" : " into " + to));
            line(out, "entries", Figures.count(before.entries()) + " -> " + Figures.count(after.entries()));
            line(out, "file bytes before", Figures.bytes(before.fileBytes()));
            line(out, "file bytes after", Figures.bytes(after.fileBytes()));
            line(out, "buckets", Figures.count(before.buckets()) + " -> " + Figures.count(after.buckets()));
            line(out, "growth slack", Figures.bytes(before.growthSlackBytes()) + " -> "
                    + Figures.bytes(after.growthSlackBytes()));
        }
        return 0;
    }

    private static void line(PrintWriter out, String label, String value) {
        out.printf("%-20s%s%n", label, value);
    }
}
