package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Inspection;
import io.hashidx.store.Options;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx load}: bulk-loads tsv, jsonl or csv files, creating a presized index when there is none. */
@Command(name = "load", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Loads key<TAB>value text files (or jsonl, or csv), creating the index when it does not exist.",
            "",
            "tsv (the default): UTF-8 text, one entry per line: the first tab splits key from value (later "
                    + "tabs belong to the value), empty lines are ignored and a CR before the line end is "
                    + "dropped. Key and value are unescaped as 'hashidx dump' escapes them: \\\\ is a "
                    + "backslash, \\t a TAB, \\n a LF, \\r a CR, \\xHH the byte HH; any other backslash is a "
                    + "bad line, so a literal backslash in the input must be written \\\\. "
                    + "With --hex, key and value are hex strings.",
            "",
            "jsonl: one object per line with \"key\" or \"key_hex\" and \"value\" or \"value_hex\" "
                    + "(what 'hashidx dump --format jsonl' writes).",
            "",
            "csv: RFC 4180 in UTF-8; --key-column and --value-column pick the columns by 1-based index "
                    + "(default 1 and 2) or by header name (then the first record is the header).",
            "",
            "A new FILE gets the widths of the longest key and value in the inputs (in bytes) and is "
                    + "presized for the number of records, both found by a first pass over the inputs, so the "
                    + "load never grows the table. An existing FILE keeps its widths and grows as needed.",
            "",
            "A bad line (no tab, a bad escape, or a key or value longer than the width) stops the load with "
                    + "exit code 4 and a message naming the input and the line; the entries loaded before it "
                    + "stay. With --skip-bad, bad lines are counted as rejected and the first "
                    + LoadCommand.SHOWN_BAD_LINES + " are listed in the summary.",
            "",
            "Progress goes to stderr; the summary to stdout.",
            "",
            "Examples:",
            "  hashidx load demo.hidx data-samples/unicode-names.tsv",
            "  hashidx load --format jsonl copy.hidx demo.jsonl",
            "  hashidx load --format csv --key-column email --value-column name u.hidx u.csv",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:loaded",
            "2:error: usage, or a hashidx error (the message starts with its code, e.g. HIDX-004); also a bad input line (without --skip-bad) or an input that cannot be read"})
final class LoadCommand extends ToolCommand {
    static final int SHOWN_BAD_LINES = 5;

    @Parameters(index = "0", paramLabel = "FILE", description = "the index file; created when it does not exist")
    Path file;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "INPUT",
            description = "input files in FORMAT; stdin as '-' is not supported, /dev/stdin works when no "
                    + "first pass is needed (FILE exists, or all of --key-size, --value-size and --expected are given)")
    List<Path> inputs;

    @Option(names = "--key-size", paramLabel = "K",
            description = "key width in bytes of a new FILE (default: the longest key in the inputs)")
    Integer keySize;

    @Option(names = "--value-size", paramLabel = "V",
            description = "value width in bytes of a new FILE (default: the longest value in the inputs)")
    Integer valueSize;

    @Option(names = "--expected", paramLabel = "N",
            description = "entries to presize a new FILE for (default: the number of records in the inputs)")
    Long expected;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "tsv",
            description = "tsv, csv or jsonl (default: ${DEFAULT-VALUE})")
    EntryFormat format;

    @Option(names = "--hex", description = "tsv only: keys and values are hex strings")
    boolean hex;

    @Option(names = "--key-column", paramLabel = "C", defaultValue = "1",
            description = "csv only: the key column, a 1-based index or a header name (default: ${DEFAULT-VALUE})")
    String keyColumn;

    @Option(names = "--value-column", paramLabel = "C", defaultValue = "2",
            description = "csv only: the value column, a 1-based index or a header name (default: ${DEFAULT-VALUE})")
    String valueColumn;

    @Option(names = "--skip-bad", description = "skip bad lines instead of stopping; they are counted as rejected")
    boolean skipBad;

    @Option(names = "--json", description = "print the summary as one JSON object")
    boolean json;

    private final LongSupplier nanoClock = System::nanoTime;

    /** A line that was not loaded, and why. */
    record BadLine(Path input, long line, String reason) {
        String describe() {
            return "line " + line + " of " + input + ": " + reason;
        }
    }

    /** What the first pass found. */
    private record Measured(long lines, int longestKey, int longestValue) {
    }

    private long read;
    private long inserted;
    private long replaced;
    private long rejected;
    private final List<BadLine> shownBadLines = new ArrayList<>();

    @Override
    public Integer call() {
        long started = nanoClock.getAsLong();
        checkFormatOptions();
        checkInputs();
        boolean create = !Files.exists(file);
        Progress progress = new Progress(err(), Boolean.getBoolean("hashidx.stderr.tty"), nanoClock);
        long totalBytes = totalInputBytes();
        Measured measured = null;
        if (create && (keySize == null || valueSize == null || expected == null)) {
            requireReadableTwice();
            measured = measure(progress, totalBytes);
        }
        Inspection before = null;
        Inspection after;
        long loaded;
        HashIndex idx = create ? HashIndex.create(file, newFileOptions(measured)) : HashIndex.open(file);
        try (idx) {
            if (!create) {
                checkWidthsMatch(idx);
                before = idx.inspect();
            }
            putAll(idx, progress, measured == null ? -1 : measured.lines(), totalBytes);
            idx.finishGrowth();
            loaded = nanoClock.getAsLong();
            after = idx.inspect();
        } finally {
            progress.finish();
        }
        double seconds = Math.max(1e-9, (loaded - started) / 1e9);
        long doublings = after.doublings() - (before == null ? 0 : before.doublings());
        long sameSize = after.sameSizeGrowths() - (before == null ? 0 : before.sameSizeGrowths());
        if (json) {
            printJson(create, after, doublings, sameSize, seconds);
        } else {
            printText(create, measured, after, doublings, sameSize, seconds);
        }
        return 0;
    }

    private Options newFileOptions(Measured measured) {
        int k = keySize != null ? keySize : measured.longestKey();
        int v = valueSize != null ? valueSize : measured.longestValue();
        long n = expected != null ? expected : measured.lines();
        return Options.widths(k, v).expectedEntries(n);
    }

    private void checkFormatOptions() {
        if (hex && format != EntryFormat.tsv) {
            throw usageError("--hex applies to --format tsv only");
        }
        boolean columns = !keyColumn.equals("1") || !valueColumn.equals("2");
        if (columns && format != EntryFormat.csv) {
            throw usageError("--key-column and --value-column apply to --format csv only");
        }
        if (keyColumn.isEmpty() || valueColumn.isEmpty()) {
            throw usageError("--key-column and --value-column must not be empty");
        }
    }

    private EntryReader openReader(Path input) throws IOException {
        return EntryReader.open(Files.newInputStream(input), format, hex, keyColumn, valueColumn);
    }

    private void checkInputs() {
        for (Path input : inputs) {
            if (input.toString().equals("-")) {
                throw usageError("reading standard input as '-' is not supported; pass a file, or /dev/stdin "
                        + "(for a new FILE together with --key-size, --value-size and --expected)");
            }
            if (!Files.exists(input)) {
                throw new InputDataException("cannot read input " + input + ": no such file");
            }
            if (Files.isDirectory(input)) {
                throw new InputDataException("cannot read input " + input + ": it is a directory");
            }
            if (!Files.isReadable(input)) {
                throw new InputDataException("cannot read input " + input + ": permission denied");
            }
        }
    }

    /** The first pass reads the inputs once more, which a pipe cannot do. */
    private void requireReadableTwice() {
        for (Path input : inputs) {
            if (!Files.isRegularFile(input)) {
                throw usageError("input " + input + " is not a regular file and can be read only once, but a new "
                        + "FILE needs a first pass to measure the widths and count the lines; give --key-size, "
                        + "--value-size and --expected, or load from a regular file");
            }
        }
    }

    private void checkWidthsMatch(HashIndex idx) {
        if ((keySize != null && keySize != idx.keyWidth()) || (valueSize != null && valueSize != idx.valueWidth())) {
            throw usageError(file + " exists with key width " + idx.keyWidth() + " and value width "
                    + idx.valueWidth() + "; --key-size and --value-size apply only when FILE is created");
        }
    }

    /** Sum of the inputs' sizes, or -1 when one is not a regular file (its size is unknown). */
    private long totalInputBytes() {
        long total = 0;
        for (Path input : inputs) {
            if (!Files.isRegularFile(input)) {
                return -1;
            }
            try {
                total += Files.size(input);
            } catch (IOException e) {
                throw cannotRead(input, e);
            }
        }
        return total;
    }

    private Measured measure(Progress progress, long totalBytes) {
        long lines = 0;
        int longestKey = 0;
        int longestValue = 0;
        long bytesBefore = 0;
        for (Path input : inputs) {
            try (EntryReader r = openReader(input)) {
                while (r.next()) {
                    lines++;
                    // bad records and over-long keys and values are left out: the load reports them as bad lines
                    if (r.problem() == null && r.key().length <= Options.MAX_KEY_WIDTH) {
                        longestKey = Math.max(longestKey, r.key().length);
                    }
                    if (r.problem() == null && r.value().length <= Options.MAX_VALUE_WIDTH) {
                        longestValue = Math.max(longestValue, r.value().length);
                    }
                    if ((lines & 1023) == 0) {
                        progress.update("scanning", lines, "lines",
                                (double) (bytesBefore + r.bytesConsumed()) / totalBytes);
                    }
                }
                bytesBefore += r.bytesConsumed();
            } catch (IOException e) {
                throw cannotRead(input, e);
            }
        }
        return new Measured(lines, longestKey, longestValue);
    }

    private void putAll(HashIndex idx, Progress progress, long totalLines, long totalBytes) {
        progress.startPhase();
        int keyWidth = idx.keyWidth();
        int valueWidth = idx.valueWidth();
        long bytesBefore = 0;
        for (Path input : inputs) {
            try (EntryReader r = openReader(input)) {
                while (r.next()) {
                    read++;
                    String bad = r.problem() != null ? r.problem()
                            : r.key().length > keyWidth ? "key of " + r.key().length
                                    + " bytes is longer than the key width of " + keyWidth + " bytes"
                            : r.value().length > valueWidth ? "value of " + r.value().length
                                    + " bytes is longer than the value width of " + valueWidth + " bytes"
                            : null;
                    if (bad != null) {
                        reject(new BadLine(input, r.lineNumber(), bad));
                    } else if (idx.put(r.key(), r.value())) {
                        replaced++;
                    } else {
                        inserted++;
                    }
                    if ((read & 255) == 0) {
                        double fraction = totalLines > 0 ? (double) read / totalLines
                                : totalBytes > 0 ? (double) (bytesBefore + r.bytesConsumed()) / totalBytes
                                : Double.NaN;
                        progress.update("loading", read, "entries", fraction);
                    }
                }
                bytesBefore += r.bytesConsumed();
            } catch (IOException e) {
                throw cannotRead(input, e);
            }
        }
    }

    private void reject(BadLine bad) {
        if (!skipBad) {
            throw new InputDataException("bad " + bad.describe() + "; the " + Figures.count(inserted + replaced)
                    + " entries before it were loaded and stay in " + file
                    + "; fix the line, or pass --skip-bad to skip bad lines");
        }
        rejected++;
        if (shownBadLines.size() < SHOWN_BAD_LINES) {
            shownBadLines.add(bad);
        }
    }

    private static InputDataException cannotRead(Path input, IOException e) {
        String why = e instanceof NoSuchFileException ? "no such file"
                : e instanceof AccessDeniedException ? "permission denied"
                : e.getMessage();
        return new InputDataException("cannot read input " + input + ": " + why, e);
    }

    private void printText(boolean create, Measured measured, Inspection after, long doublings, long sameSize,
                           double seconds) {
        PrintWriter out = out();
        if (create) {
            out.println("created " + file + ": key width " + after.keyWidth() + " bytes, value width "
                    + after.valueWidth() + " bytes, presized for "
                    + Figures.count(expected != null ? expected : measured.lines()) + " entries");
        } else {
            out.println("loaded into " + file + ": key width " + after.keyWidth() + " bytes, value width "
                    + after.valueWidth() + " bytes");
        }
        line(out, "entries read", Figures.count(read));
        line(out, "inserted", Figures.count(inserted));
        line(out, "replaced", Figures.count(replaced));
        line(out, "rejected", Figures.count(rejected));
        for (BadLine bad : shownBadLines) {
            out.println("  " + bad.describe());
        }
        if (rejected > shownBadLines.size()) {
            out.println("  ... and " + Figures.count(rejected - shownBadLines.size()) + " more");
        }
        line(out, "entries in index", Figures.count(after.entries()));
        line(out, "buckets", Figures.count(after.buckets()));
        line(out, "growths done", Figures.count(doublings) + " doublings, " + Figures.count(sameSize) + " same-size");
        line(out, "file bytes", Figures.bytes(after.fileBytes()));
        line(out, "bytes per entry", Figures.decimal(after.bytesPerEntry(), 1));
        line(out, "seconds", Figures.decimal(seconds, 2));
        line(out, "entries/s", Figures.count(Math.round(read / seconds)));
    }

    private static void line(PrintWriter out, String label, String value) {
        out.printf("%-18s%s%n", label, value);
    }

    private void printJson(boolean create, Inspection after, long doublings, long sameSize, double seconds) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("path", file.toString());
        o.put("created", create);
        o.put("key_size", after.keyWidth());
        o.put("value_size", after.valueWidth());
        o.put("inputs", inputs.stream().map(Path::toString).toList());
        o.put("entries_read", read);
        o.put("inserted", inserted);
        o.put("replaced", replaced);
        o.put("rejected", rejected);
        List<Object> bad = new ArrayList<>();
        for (BadLine b : shownBadLines) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("input", b.input().toString());
            m.put("line", b.line());
            m.put("reason", b.reason());
            bad.add(m);
        }
        o.put("rejected_lines", bad);
        o.put("entries", after.entries());
        o.put("buckets", after.buckets());
        o.put("doublings", doublings);
        o.put("same_size_growths", sameSize);
        o.put("file_bytes", after.fileBytes());
        o.put("bytes_per_entry", after.bytesPerEntry());
        o.put("seconds", seconds);
        o.put("entries_per_second", read / seconds);
        out().println(Json.write(o));
    }
}
