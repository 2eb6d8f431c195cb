package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx put}: stores one entry. */
@Command(name = "put", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Stores one entry.",
            "",
            "Stores VALUE under KEY and prints 'inserted' or 'replaced'. KEY and VALUE are taken as UTF-8 "
                    + "text, or as hex with --hex. Either may be empty (\"\"). A KEY or VALUE longer than "
                    + "the file's widths is refused (HIDX-005, HIDX-006): the widths are fixed when the file "
                    + "is created.",
            "",
            "Examples:",
            "  hashidx put demo.hidx F0000 \"MY PRIVATE GLYPH\"",
            "  hashidx put --hex bin.hidx 00ff10 deadbeef",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:stored",
            "2:error: usage, or a hashidx error (the message starts with its code, e.g. HIDX-006)"})
final class PutCommand extends ToolCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "the index file")
    Path file;

    @Parameters(index = "1", paramLabel = "KEY", description = "the key")
    String key;

    @Parameters(index = "2", paramLabel = "VALUE", description = "the value")
    String value;

    @Option(names = "--hex", description = "KEY and VALUE are hex")
    boolean hex;

    @Override
    public Integer call() {
        byte[] k;
        byte[] v;
        try {
            k = ByteStrings.fromArgument(key, hex);
            v = ByteStrings.fromArgument(value, hex);
        } catch (IllegalArgumentException e) {
            throw usageError(e.getMessage());
        }
        boolean replaced;
        try (HashIndex idx = HashIndex.open(file)) {
            replaced = idx.put(k, v);
        }
        out().println(replaced ? "replaced" : "inserted");
        return 0;
    }
}
