package io.hashidx.tools;

import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;

import io.hashidx.store.HashIndex;
import io.hashidx.store.HashIndexException;
import io.hashidx.store.Inspection;
import io.hashidx.store.Options;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
                    + "presized for FILE's entry count, and forces it to disk. Without --to, the copy is written "
                    + "to FILE.compact-tmp in the same directory, gets FILE's permissions, and is renamed over "
                    + "FILE in one atomic step, so a crash leaves either the old or the new file, never half of "
                    + "one; a FILE.compact-tmp left by a crashed earlier run is deleted first. FILE must be "
                    + "writable, since it is replaced.",
            "",
            "FILE is opened for writing (without writing to it) and stays open until the new file has taken its "
                    + "place: other readers may go on, a writer in another process is refused with HIDX-004 and "
                    + "cannot start meanwhile, so no change can be lost between the copy and the rename. A reader "
                    + "that still has the old file open keeps seeing the old file until it opens FILE again.",
            "",
            "With --to OUT the copy is written to OUT (which must not exist) and FILE is opened read-only and "
                    + "left as it is; a FILE that another process is writing is refused (use 'hashidx backup' "
                    + "for a copy of a file in use).",
            "",
            "'hashidx inspect FILE' shows the growth slack and says when compacting would pay off.",
            "",
            "Examples:",
            "  hashidx compact grown.hidx",
            "  hashidx compact grown.hidx --to compacted.hidx",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:compacted",
            "2:error: usage (e.g. OUT exists), a hashidx error (the message starts with its code, e.g. "
                    + "HIDX-004 when another process writes FILE), FILE is read-only, or the new file could not "
                    + "be renamed over FILE (FILE is then unchanged)"})
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
        if (to != null && Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
            throw usageError("OUT " + to + " exists; compact writes a new file (delete it, or choose another name)");
        }
        Inspection before;
        Inspection after;
        if (to == null && Files.exists(file)) {
            requireReplaceable(file.toRealPath()); // before opening for writing, which would refuse it less helpfully
        }
        // FILE stays open for writing until the new file has taken its place: no writer can slip in between
        try (HashIndex source = to == null ? whileNobodyWrites(file, () -> HashIndex.open(file)) : openForReading(file)) {
            Path replaced = to == null ? file.toRealPath() : null; // through a symlink, the file it names
            Path target = to != null ? to : replaced.resolveSibling(replaced.getFileName() + TEMPORARY_SUFFIX);
            if (to == null) {
                requireReplaceable(replaced);
                Files.deleteIfExists(target); // left by a crashed earlier run; a running one would hold FILE
            }
            before = whileNobodyWrites(file, source::inspect);
            Options options = (source.variableLengths() ? Options.variableLengths(source.keyWidth(), source.valueWidth())
                    : Options.widths(source.keyWidth(), source.valueWidth()))
                    .expectedEntries(source.size())
                    .seed(source.seed());
            HashIndex copy = HashIndex.create(target, options); // on failure it leaves no file behind
            try (copy) {
                for (Iterator<Map.Entry<byte[], byte[]>> it = source.iterator(); it.hasNext(); ) {
                    Map.Entry<byte[], byte[]> e = it.next();
                    copy.put(e.getKey(), e.getValue());
                }
                copy.sync();
                after = copy.inspect();
            } catch (RuntimeException e) {
                Files.deleteIfExists(HashIndex.readerTable(target));
                Files.deleteIfExists(target); // a partial copy is of no use; FILE is unchanged
                throw e;
            }
            if (to == null) {
                // the temporary file's reader table: nobody reads that name, and after the rename FILE's own serves
                Files.deleteIfExists(HashIndex.readerTable(target));
                replace(target, replaced);
            }
        }
        Path written = to == null ? file : to;
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("path", file.toString());
            o.put("written", written.toString());
            o.put("entries_before", before.entries());
            o.put("entries_after", after.entries());
            o.put("buckets_before", before.buckets());
            o.put("buckets_after", after.buckets());
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

    /**
     * Refuses a FILE whose permission bits allow no writing (r--r--r--), as the store refuses to open it for
     * writing: replacing it would undo that protection. Checked by mode, so that it holds for root too.
     */
    private void requireReplaceable(Path replaced) throws IOException {
        boolean writable;
        try {
            writable = Files.getPosixFilePermissions(replaced).stream().anyMatch(p -> p.name().endsWith("_WRITE"));
        } catch (UnsupportedOperationException e) {
            writable = Files.isWritable(replaced);
        }
        if (!writable) {
            throw new ToolFailure(HashIndexException.Code.READ_ONLY.id() + " read only: " + file + ": the file is "
                    + "read-only (its permissions allow no writing) and compact would replace it; make it writable "
                    + "(chmod u+w), or write the compacted copy elsewhere with --to OUT");
        }
    }

    /** Gives the copy FILE's permissions, renames it over FILE atomically and makes the rename durable. */
    private void replace(Path copy, Path replaced) throws IOException {
        try {
            Files.setPosixFilePermissions(copy, Files.getPosixFilePermissions(replaced));
        } catch (UnsupportedOperationException e) {
            // no POSIX permissions on this file system: the copy keeps the default ones
        }
        try {
            Files.move(copy, replaced, ATOMIC_MOVE, REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(copy);
            throw new ToolFailure("cannot rename " + copy + " over " + file + " (" + e.getMessage() + "); " + file
                    + " is unchanged; check the directory's permissions, or write the copy elsewhere with --to OUT", e);
        }
        syncDirectory(replaced.getParent());
    }

    /** Forces the directory entry of the rename to disk where the file system allows it (Linux does). */
    private static void syncDirectory(Path directory) {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException e) {
            // some file systems cannot open or force a directory; the rename itself is done
        }
    }

    private static void line(PrintWriter out, String label, String value) {
        out.printf("%-20s%s%n", label, value);
    }
}
