package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx backup}: a consistent copy of a file, also of one that another process is writing. */
@Command(name = "backup", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Writes a consistent copy of FILE to OUT, also while another process writes FILE.",
            "",
            "A plain cp of a file that a process is writing can be torn: pages copied before and after a "
                    + "change. The copy is written beside OUT (OUT.bulk-ID.tmp) and renamed to OUT only once it "
                    + "is complete and forced to disk, so OUT is never half written; OUT must not exist.",
            "",
            "What the copy holds:",
            "  point in time: when no process is writing FILE, its bytes are copied while writers are kept "
                    + "out (they wait to open until the copy is done). OUT is FILE as it was at that instant.",
            "  live: while another process writes FILE, the entries are read beside the writer and written "
                    + "into a new, compact file with the same widths and seed. Every entry that no write touched "
                    + "during the copy is in OUT with its value; every entry in OUT holds a value that its key "
                    + "had at some moment during the copy; an entry written during the copy may or may not be "
                    + "in it. For a point-in-time copy of a file in use, call HashIndex.copyTo in the writing "
                    + "process.",
            "Either way OUT opens and passes 'hashidx verify'.",
            "",
            "Examples:",
            "  hashidx backup live.hidx /backups/live-monday.hidx",
            "  hashidx backup live.hidx copy.hidx --json",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:copied",
            "2:error: usage (e.g. OUT exists), FILE cannot be read, or the disk is full (the message starts "
                    + "with its code, e.g. HIDX-007); OUT is not created"})
final class BackupCommand extends ToolCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "the index file")
    Path file;

    @Parameters(index = "1", paramLabel = "OUT", description = "the copy to write; must not exist")
    Path out;

    @Option(names = "--json", description = "print {\"path\", \"written\", \"entries\", \"file_bytes\", "
            + "\"point_in_time\"} as one JSON object")
    boolean json;

    @Override
    public Integer call() {
        if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
            throw usageError("OUT " + out + " exists; backup writes a new file (delete it, or choose another name)");
        }
        HashIndex.CopyResult copy;
        try (HashIndex idx = openForReading(file)) {
            copy = idx.copyTo(out);
        }
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("path", file.toString());
            o.put("written", out.toString());
            o.put("entries", copy.entries());
            o.put("file_bytes", copy.fileBytes());
            o.put("point_in_time", copy.pointInTime());
            out().println(Json.write(o));
        } else {
            PrintWriter w = out();
            w.println("backed up " + file + " to " + out);
            w.println("  entries: " + Figures.count(copy.entries()));
            w.println("  file bytes: " + Figures.bytes(copy.fileBytes()));
            w.println("  copy: " + (copy.pointInTime() ? "point in time (no process wrote the file meanwhile)"
                    : "live (another process wrote the file meanwhile; see --help)"));
        }
        return 0;
    }
}
