package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx delete}: removes keys. */
@Command(name = "delete", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Removes keys.",
            "",
            "Removes each KEY and prints 'deleted N of M'; each missing key is named on stderr as "
                    + "'not found: KEY'. Keys are UTF-8 text, or hex with --hex.",
            "",
            "Examples:",
            "  hashidx delete demo.hidx F0000",
            "  hashidx delete --hex bin.hidx 00ff10 00ff11",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:every key was deleted",
            "1:a key was not found",
            "2:error: usage, or a hashidx error (the message starts with its code, e.g. HIDX-004)"})
final class DeleteCommand extends ToolCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "the index file")
    Path file;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "KEY", description = "keys to remove")
    List<String> keys;

    @Option(names = "--hex", description = "keys are hex")
    boolean hex;

    @Override
    public Integer call() {
        byte[][] parsed = parseKeys(keys, hex);
        int deleted = 0;
        try (HashIndex idx = HashIndex.open(file)) {
            for (int i = 0; i < parsed.length; i++) {
                if (parsed[i].length <= idx.maxKeyLength() && idx.remove(parsed[i])) {
                    deleted++;
                } else {
                    reportNotFound(hex ? ByteStrings.hex(parsed[i]) : keys.get(i), parsed[i], idx);
                }
            }
        }
        out().println("deleted " + deleted + " of " + parsed.length);
        return deleted == parsed.length ? 0 : 1;
    }
}
