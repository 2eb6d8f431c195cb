package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx dump}: writes every entry as text that {@code hashidx load} reads back exactly. */
@Command(name = "dump", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Writes every entry of FILE to stdout, once each, in an order of no meaning.",
            "",
            "tsv (the default): key<TAB>value per line, escaped so that any bytes survive and valid "
                    + "UTF-8 text stays readable: \\\\ is a backslash, \\t a TAB, \\n a LF, \\r a CR, and "
                    + "\\xHH any other byte that is not part of a valid, printable UTF-8 character. "
                    + "With --hex, key and value are lower-case hex instead.",
            "",
            "jsonl: one object per line, {\"key\":...,\"value\":...} with JSON strings where the bytes are "
                    + "valid UTF-8, else \"key_hex\" / \"value_hex\" with lower-case hex.",
            "",
            "'hashidx load' reads both formats back to the same bytes (give it the same --format and --hex). "
                    + "FILE is opened read-only; while another process writes it, the dump is a live one (see "
                    + "'hashidx backup --help' for what that means).",
            "",
            "Example:",
            "  hashidx dump demo.hidx > demo.tsv && hashidx load copy.hidx demo.tsv",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:dumped",
            "2:error: usage, or a hashidx error (the message starts with its code, e.g. HIDX-004)"})
final class DumpCommand extends ToolCommand {
    /** Entries between checks that stdout still has a reader. */
    static final int CHECK_EVERY = 4096;

    @Parameters(index = "0", paramLabel = "FILE", description = "the index file")
    Path file;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "tsv",
            description = "tsv or jsonl (default: ${DEFAULT-VALUE})")
    EntryFormat format;

    @Option(names = "--hex", description = "tsv only: write keys and values as lower-case hex")
    boolean hex;

    @Override
    public Integer call() {
        if (format == EntryFormat.csv) {
            throw usageError("dump writes tsv or jsonl; csv is an input format of load only");
        }
        if (hex && format != EntryFormat.tsv) {
            throw usageError("--hex applies to --format tsv only; jsonl writes key_hex and value_hex as needed");
        }
        PrintWriter out = out();
        try (HashIndex idx = openForReading(file)) {
            long written = 0;
            for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(); it.hasNext(); ) {
                Map.Entry<byte[], byte[]> e = it.next();
                out.print(line(e.getKey(), e.getValue()));
                out.print('\n');
                if (++written % CHECK_EVERY == 0 && out.checkError()) {
                    return 0; // the reader went away (e.g. 'hashidx dump FILE | head'): no use reading on
                }
            }
        }
        out.flush();
        return 0;
    }

    private String line(byte[] key, byte[] value) {
        if (format == EntryFormat.jsonl) {
            return JsonLines.format(key, value);
        }
        return hex
                ? ByteStrings.hex(key) + '\t' + ByteStrings.hex(value)
                : TsvEscapes.escape(key) + '\t' + TsvEscapes.escape(value);
    }
}
