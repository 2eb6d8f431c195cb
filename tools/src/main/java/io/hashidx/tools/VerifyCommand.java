package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx verify}: checks every invariant of a file. */
@Command(name = "verify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Checks every invariant of a file.",
            "",
            "Checks every invariant of FILE that FORMAT.md lists: both header copies and their checksums, "
                    + "every bucket and overflow page, every key in its hash's bucket, the entry count, no page "
                    + "used twice, the free list. Prints 'ok', or one line per problem found, with the file "
                    + "offset of the page concerned. Opens FILE read-only and changes nothing. FILE must hold "
                    + "still: a file that another process is writing is refused (HIDX-004); verify a copy made "
                    + "with 'hashidx backup' instead.",
            "",
            "Examples:",
            "  hashidx verify demo.hidx",
            "  hashidx verify demo.hidx --json",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:ok",
            "1:problems were found",
            "2:error: usage, or FILE cannot be read at all (the message starts with its code, e.g. HIDX-003 "
                    + "when both header copies are damaged)"})
final class VerifyCommand extends ToolCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "the index file")
    Path file;

    @Option(names = "--json", description = "print {\"path\", \"ok\", \"problems\": [...]} as one JSON object")
    boolean json;

    @Override
    public Integer call() {
        List<String> problems;
        try (HashIndex idx = openForReading(file)) {
            problems = whileNobodyWrites(file, idx::verify);
        }
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("path", file.toString());
            o.put("ok", problems.isEmpty());
            o.put("problems", problems);
            out().println(Json.write(o));
        } else if (problems.isEmpty()) {
            out().println("ok");
        } else {
            problems.forEach(out()::println);
        }
        return problems.isEmpty() ? 0 : 1;
    }
}
