package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Inspection;
import io.hashidx.store.Options;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
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
                    + "exit code 2 and a message naming the input and the line; the entries loaded before it "
                    + "stay. With --skip-bad, bad lines are counted as rejected and the first "
                    + LoadCommand.SHOWN_BAD_LINES + " are listed in the summary.",
            "",
            "Progress goes to stderr: on a terminal a bar with the percentage, entries/s and the time left, "
                    + "redrawn in place; otherwise (a log, a pipe) a plain line every 10 seconds. The summary "
                    + "goes to stdout: entries read, inserted, replaced and rejected (with the first bad lines and "
                    + "why), the growths performed, seconds, entries/s, file bytes and bytes per entry.",
            "",
            "Examples:",
            "  hashidx load demo.hidx data-samples/unicode-names.tsv",
            "  hashidx load --format jsonl copy.hidx demo.jsonl",
            "  hashidx dump demo.hidx | hashidx load copy.hidx -",
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
            description = "input files in FORMAT; '-' is standard input (e.g. 'hashidx dump a.hidx | hashidx load "
                    + "b.hidx -'). A pipe that needs a first pass (a new FILE without all of --key-size, "
                    + "--value-size and --expected) is first copied to a temporary file beside FILE")
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

    /** What '-' stands for among the inputs. */
    static final String STANDARD_INPUT = "-";

    /** A line that was not loaded, and why; {@code input} as messages name it. */
    record BadLine(String input, long line, String reason) {
        String describe() {
            return "line " + line + " of " + input + ": " + reason;
        }
    }

    /**
     * One input: {@code name} for messages, and where to read it: {@code path}, or standard input when
     * {@code path} is null. A pipe read twice is replaced by a temporary copy ({@code temporary}).
     */
    private record Input(String name, Path path, boolean temporary) {
        boolean regularFile() {
            return path != null && Files.isRegularFile(path);
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
    /** Set once FILE is open, for the message of an interrupted load. */
    private volatile boolean opened;

    @Override
    public Integer call() {
        long started = nanoClock.getAsLong();
        checkFormatOptions();
        List<Input> sources = checkInputs();
        boolean create = !Files.exists(file);
        if (!create && expected != null) {
            err().println("hashidx: note: " + file + " exists, so --expected (which presizes a new file) is ignored; "
                    + "the file grows as needed");
        }
        Progress progress = new Progress(err(), Boolean.getBoolean("hashidx.stderr.tty"), nanoClock);
        Thread interrupted = new Thread(() -> {
            progress.finish();
            err().println(!opened ? "hashidx: load interrupted before " + file + " was " + (create ? "created" : "opened")
                    + "; nothing was loaded"
                    : "hashidx: load interrupted; what was loaded into " + file + " before stays in it (the entry "
                    + "being put is either there or not)");
            err().flush();
        }, "hashidx-load-interrupted");
        Runtime.getRuntime().addShutdownHook(interrupted); // Ctrl-C: a clean line and a word on what is left
        try {
            return load(sources, create, progress, started);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(interrupted);
            } catch (IllegalStateException e) {
                // the JVM is shutting down (Ctrl-C): the hook is saying its word
            }
            progress.finish();
            deleteTemporaryCopies(sources);
        }
    }

    private int load(List<Input> sources, boolean create, Progress progress, long started) {
        Measured measured = null;
        if (create && (keySize == null || valueSize == null || expected == null)) {
            copyPipes(sources, progress); // the first pass reads every input once more
            measured = measure(sources, progress, totalInputBytes(sources));
        }
        long totalBytes = totalInputBytes(sources);
        Inspection before = null;
        Inspection after;
        long loaded;
        HashIndex idx = create ? HashIndex.create(file, newFileOptions(measured)) : HashIndex.open(file);
        opened = true;
        try (idx) {
            if (!create) {
                checkWidthsMatch(idx);
                before = idx.inspect();
            }
            putAll(idx, sources, progress, measured == null ? -1 : measured.lines(), totalBytes);
            idx.finishGrowth();
            loaded = nanoClock.getAsLong();
            after = idx.inspect();
        }
        progress.finish();
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

    private EntryReader openReader(Input input) throws IOException {
        InputStream in = input.path() != null ? Files.newInputStream(input.path()) : standardInput();
        return EntryReader.open(in, format, hex, keyColumn, valueColumn);
    }

    /** Standard input, which closing the reader leaves open. */
    private static InputStream standardInput() {
        return new FilterInputStream(System.in) {
            @Override
            public void close() {
                // System.in belongs to the process
            }
        };
    }

    private List<Input> checkInputs() {
        List<Input> checked = new ArrayList<>();
        boolean standardInput = false;
        for (Path input : inputs) {
            if (input.toString().equals(STANDARD_INPUT)) {
                if (standardInput) {
                    throw usageError("'-' (standard input) is given twice; it can be read only once");
                }
                standardInput = true;
                checked.add(new Input("standard input", null, false));
                continue;
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
            checked.add(new Input(input.toString(), input, false));
        }
        return checked;
    }

    /**
     * A new FILE needs a first pass over the inputs (to measure widths and count lines), which a pipe
     * cannot give: each input that is not a regular file is copied to a temporary file beside FILE,
     * which is read twice instead and deleted at the end.
     */
    private void copyPipes(List<Input> sources, Progress progress) {
        Path directory = file.toAbsolutePath().getParent();
        for (int i = 0; i < sources.size(); i++) {
            Input input = sources.get(i);
            if (input.regularFile()) {
                continue;
            }
            Path copy;
            try {
                copy = Files.createTempFile(directory, "." + file.getFileName() + ".", ".load-input");
            } catch (IOException e) {
                throw new ToolFailure("cannot create a temporary file in " + directory + " to hold " + input.name()
                        + " for the first pass (" + e.getMessage() + "); make the directory writable, or give "
                        + "--key-size, --value-size and --expected so that the input is read only once", e);
            }
            copy.toFile().deleteOnExit(); // also when the load is interrupted
            sources.set(i, new Input(input.name(), copy, true));
            progress.startPhase();
            try (InputStream in = input.path() != null ? Files.newInputStream(input.path()) : standardInput();
                 OutputStream out = Files.newOutputStream(copy)) {
                byte[] buffer = new byte[1 << 16];
                long copied = 0;
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                    copied += n;
                    progress.update("reading " + input.name(), copied, "bytes", Double.NaN);
                }
            } catch (IOException e) {
                throw new ToolFailure("cannot copy " + input.name() + " to the temporary file " + copy
                        + " for the first pass (" + e.getMessage() + "); free disk space, or give --key-size, "
                        + "--value-size and --expected so that the input is read only once", e);
            }
        }
    }

    private static void deleteTemporaryCopies(List<Input> sources) {
        for (Input input : sources) {
            if (input.temporary()) {
                try {
                    Files.deleteIfExists(input.path());
                } catch (IOException e) {
                    // deleteOnExit tries once more
                }
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
    private static long totalInputBytes(List<Input> sources) {
        long total = 0;
        for (Input input : sources) {
            if (!input.regularFile()) {
                return -1;
            }
            try {
                total += Files.size(input.path());
            } catch (IOException e) {
                throw cannotRead(input, e);
            }
        }
        return total;
    }

    private Measured measure(List<Input> sources, Progress progress, long totalBytes) {
        long lines = 0;
        int longestKey = 0;
        int longestValue = 0;
        long bytesBefore = 0;
        progress.startPhase();
        for (Input input : sources) {
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

    private void putAll(HashIndex idx, List<Input> sources, Progress progress, long totalLines, long totalBytes) {
        progress.startPhase();
        int keyWidth = idx.keyWidth();
        int valueWidth = idx.valueWidth();
        long bytesBefore = 0;
        for (Input input : sources) {
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
                        reject(new BadLine(input.name(), r.lineNumber(), bad));
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

    private static InputDataException cannotRead(Input input, IOException e) {
        String why = e instanceof NoSuchFileException ? "no such file"
                : e instanceof AccessDeniedException ? "permission denied"
                : e.getMessage();
        return new InputDataException("cannot read input " + input.name() + ": " + why, e);
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
            m.put("input", b.input());
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
