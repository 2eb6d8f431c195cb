package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx get}: prints the values of keys. */
@Command(name = "get", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Prints the values of keys.",
            "",
            "With one KEY just its value, with several KEY<TAB>value per line. A missing key (also one "
                    + "longer than the file's key width) prints nothing on stdout and 'not found: KEY' on stderr.",
            "",
            "Keys are taken as UTF-8 text. Values are printed as UTF-8 text; a value whose bytes are "
                    + "not valid UTF-8 is printed as hex with a 0x prefix instead (so a text value that itself "
                    + "starts with 0x is ambiguous: use --hex for exact bytes). With --hex, keys are given as hex "
                    + "and values printed as hex (lower case, no prefix).",
            "",
            "Opens FILE read-only; another process may be writing it meanwhile (the answer is the value at some "
                    + "moment during the lookup, never one half written).",
            "",
            "Examples:",
            "  hashidx get demo.hidx 1F600",
            "  hashidx get demo.hidx 0041 0042 0043",
            "  hashidx get --hex bin.hidx 00ff10",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:every key was found",
            "1:a key was not found",
            "2:error: usage, or a hashidx error (the message starts with its code, e.g. HIDX-001)"})
final class GetCommand extends ToolCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "the index file")
    Path file;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "KEY", description = "keys to look up")
    List<String> keys;

    @Option(names = "--hex", description = "keys are hex; values are printed as hex")
    boolean hex;

    @Override
    public Integer call() {
        byte[][] parsed = parseKeys(keys, hex);
        int missing = 0;
        try (HashIndex idx = openForReading(file)) {
            for (int i = 0; i < parsed.length; i++) {
                String shownKey = hex ? ByteStrings.hex(parsed[i]) : keys.get(i);
                byte[] value = parsed[i].length > idx.maxKeyLength() ? null : idx.get(parsed[i]);
                if (value == null) {
                    missing++;
                    reportNotFound(shownKey, parsed[i], idx);
                } else if (parsed.length == 1) {
                    out().println(ByteStrings.display(value, hex));
                } else {
                    out().println(shownKey + "\t" + ByteStrings.display(value, hex));
                }
            }
        }
        return missing == 0 ? 0 : 1;
    }
}
