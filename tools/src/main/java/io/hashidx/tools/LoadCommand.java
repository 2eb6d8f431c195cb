package io.hashidx.tools;

import io.hashidx.store.BulkBuilder;
import io.hashidx.store.HashIndex;
import io.hashidx.store.Inspection;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
            "A new FILE is bulk built in one pass over the inputs: every record is hashed and partitioned "
                    + "by bucket into temporary runs beside FILE (FILE.bulk-*) within the --memory budget, then "
                    + "the file is written front to back, sequentially, on two threads (with O_DIRECT where the "
                    + "file system takes it, so the index does not pass through the page cache). Without --key-size, "
                    + "--value-size and --fit-widths it has variable lengths (keys and values of up to 16 MiB "
                    + "each; up to 16 bytes of key and of value live in the bucket slots, longer ones in record "
                    + "cells, as 'hashidx create' without widths makes). With --key-size or --value-size it has "
                    + "fixed widths: the one given, and the longest key or value (in bytes) for the other; "
                    + "--fit-widths gives it the widths of the longest key and value. It is "
                    + "presized for the records read, so it never grows. It appears only when it is complete "
                    + "and synced: a failure or a kill leaves no FILE (temporary files left by a kill are "
                    + "deleted by the next load of the same FILE).",
            "",
            "An existing FILE keeps its widths (or variable lengths) and takes the entries as puts. First it is made room for the "
                    + "entries it holds plus the records of the inputs (--expected N, or else the lines of the "
                    + "inputs, counted in a first pass when every input is a file) in one growth, to 2^k times "
                    + "its buckets, so the load does not double the file over and over; entries move to the "
                    + "larger array as the puts go. From standard input without --expected it grows as needed.",
            "",
            "Duplicate keys: the last one wins (counted as replaced).",
            "",
            "A bad line (no tab, a bad escape, or a key or value longer than the width, or than 16 MiB with "
                    + "variable lengths) stops the load with "
                    + "exit code 2 and a message naming the input and the line: a new FILE is not created, an "
                    + "existing FILE keeps the entries loaded before the line. With --skip-bad, bad lines are "
                    + "counted as rejected and the first " + LoadCommand.SHOWN_BAD_LINES
                    + " are listed in the summary.",
            "",
            "Progress goes to stderr: on a terminal a bar with the phase (for a new FILE: reading the "
                    + "inputs, which are partitioned as they are read, partitioning the last run, writing the "
                    + "buckets), the percentage, the rate and the time left, redrawn in place; otherwise (a log, "
                    + "a pipe) a plain line every 10 seconds. The summary goes to stdout: entries read, inserted, "
                    + "replaced and rejected (with the first bad lines and why), the growths performed, seconds, "
                    + "entries/s, file bytes and bytes per entry.",
            "",
            "Examples:",
            "  hashidx load demo.hidx data-samples/unicode-names.tsv",
            "  hashidx gen big.tsv --count 100000000 --keys uniform --seed 1",
            "  hashidx load --memory 2g big.hidx big.tsv",
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
    /** The heap that --memory counts: the launcher starts load with -Xmx96m; load allocates nothing per record. */
    static final long JVM_HEAP = 96L << 20;
    /** What --memory counts for the JVM besides the heap: code, metaspace, threads, the JVM's own text. */
    static final long JVM_NATIVE = 64L << 20;
    /** The smallest --memory: the JVM and the builder's smallest budget. */
    static final long MIN_MEMORY = JVM_HEAP + JVM_NATIVE + BulkBuilder.MIN_MEMORY;

    @Parameters(index = "0", paramLabel = "FILE", description = "the index file; created when it does not exist")
    Path file;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "INPUT",
            description = "input files in FORMAT; '-' is standard input (e.g. 'hashidx dump a.hidx | hashidx load "
                    + "b.hidx -'); each input is read once")
    List<Path> inputs;

    @Option(names = "--key-size", paramLabel = "K",
            description = "key width in bytes of a new fixed-width FILE (default: variable lengths; with "
                    + "--value-size or --fit-widths, the longest key in the inputs)")
    Integer keySize;

    @Option(names = "--value-size", paramLabel = "V",
            description = "value width in bytes of a new fixed-width FILE (default: variable lengths; with "
                    + "--key-size or --fit-widths, the longest value in the inputs)")
    Integer valueSize;

    @Option(names = "--fit-widths",
            description = "a new FILE gets fixed widths: those of the longest key and value in the inputs "
                    + "(the most compact layout for keys and values of similar lengths)")
    boolean fitWidths;

    @Option(names = "--expected", paramLabel = "N",
            description = "a new FILE: entries to presize it for, when more than the records in the inputs "
                    + "(default: the number of records); an existing FILE: the entries the inputs add, to make "
                    + "room for them in one growth (default: the lines of the inputs when they are files; 0: make no "
                    + "room first, grow as needed)")
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

    @Option(names = "--memory", paramLabel = "SIZE", defaultValue = "512m",
            description = "memory the load may take in all when it builds a new FILE, e.g. 512m or 2g (default: "
                    + "${DEFAULT-VALUE}, at least 164m): the Java heap (96m, the launcher's -Xmx for load), 64m for "
                    + "the JVM itself and the rest for the builder's runs and buffers; more memory means fewer "
                    + "temporary runs. Pages of the files in the page cache are the kernel's, not counted")
    String memory;

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

    /** One input: {@code name} for messages, and where to read it: {@code path}, or standard input when null. */
    record Input(String name, Path path) {
        boolean regularFile() {
            return path != null && Files.isRegularFile(path);
        }
    }

    /** The figures of the summary about the file after the load. */
    record Loaded(int keyWidth, int valueWidth, long entries, long buckets, long doublings, long sameSizeGrowths,
                  long fileBytes) {
        static Loaded of(Inspection i) {
            return new Loaded(i.keyWidth(), i.valueWidth(), i.entries(), i.buckets(), i.doublings(),
                    i.sameSizeGrowths(), i.fileBytes());
        }

        double bytesPerEntry() {
            return entries == 0 ? 0 : (double) fileBytes / entries;
        }
    }

    /** Whether FILE has variable lengths: an existing one that has, or a new one built without widths. */
    boolean variableFile;

    long read;
    /** The entries an existing FILE was grown for before the puts (0: none, or it was large enough). */
    private long reservedFor;
    long inserted;
    long replaced;
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
        if (expected != null && expected < 0) {
            throw usageError("--expected must not be negative");
        }
        Progress progress = new Progress(err(), Boolean.getBoolean("hashidx.stderr.tty"), nanoClock);
        Thread interrupted = new Thread(() -> {
            progress.finish();
            err().println(!opened ? "hashidx: load interrupted before " + file + " was " + (create ? "created" : "opened")
                    + "; nothing was loaded" + (create ? " (the next load of " + file + " deletes the temporary "
                    + file.getFileName() + ".bulk-* files)" : "")
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
        }
    }

    private int load(List<Input> sources, boolean create, Progress progress, long started) {
        long totalBytes = totalInputBytes(sources);
        BulkLoad.Built built = null;
        Inspection before = null;
        Loaded after;
        long loaded;
        if (create) {
            built = new BulkLoad(this, progress, memoryBytes()).run(sources, totalBytes);
            loaded = nanoClock.getAsLong();
            after = built.loaded(); // from the builder: a summary need not read a file it just wrote
        } else {
            try (HashIndex idx = HashIndex.open(file)) {
                opened = true;
                checkWidthsMatch(idx);
                before = idx.inspect();
                long adding = expected != null ? expected : countLines(sources, progress);
                if (adding > 0 && idx.reserve(idx.size() + adding)) {
                    reservedFor = idx.size() + adding;
                }
                putAll(idx, sources, progress, -1, totalBytes);
                idx.finishGrowth();
                loaded = nanoClock.getAsLong();
                after = Loaded.of(idx.inspect());
            }
        }
        progress.finish();
        double seconds = Math.max(1e-9, (loaded - started) / 1e9);
        long doublings = after.doublings() - (before == null ? 0 : before.doublings());
        long sameSize = after.sameSizeGrowths() - (before == null ? 0 : before.sameSizeGrowths());
        if (json) {
            printJson(create, after, doublings, sameSize, seconds);
        } else {
            printText(built, after, doublings, sameSize, seconds);
        }
        return 0;
    }

    /**
     * The builder's share of --memory: what is left after the heap (at most {@link #JVM_HEAP}, less
     * when the JVM's heap is smaller) and {@link #JVM_NATIVE}.
     */
    private long memoryBytes() {
        long bytes;
        try {
            bytes = BulkLoad.memoryBytes(memory);
        } catch (IllegalArgumentException e) {
            throw usageError(e.getMessage());
        }
        if (bytes < MIN_MEMORY) {
            throw usageError("--memory " + memory + " is below the minimum of " + (MIN_MEMORY >> 20) + "m: the JVM "
                    + "takes " + ((JVM_HEAP + JVM_NATIVE) >> 20) + "m (a heap of " + (JVM_HEAP >> 20) + "m and "
                    + (JVM_NATIVE >> 20) + "m of its own) and the builder at least " + (BulkBuilder.MIN_MEMORY >> 20) + "m");
        }
        return bytes - Math.min(Runtime.getRuntime().maxMemory(), JVM_HEAP) - JVM_NATIVE;
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

    EntryReader openReader(Input input) throws IOException {
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
                checked.add(new Input("standard input", null));
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
            checked.add(new Input(input.toString(), input));
        }
        return checked;
    }

    private void checkWidthsMatch(HashIndex idx) {
        variableFile = idx.variableLengths();
        if (fitWidths) {
            throw usageError(file + " exists; --fit-widths applies only when FILE is created");
        }
        if (variableFile && (keySize != null || valueSize != null)) {
            throw usageError(file + " exists with variable lengths; --key-size and --value-size apply only when FILE "
                    + "is created");
        }
        if ((keySize != null && keySize != idx.keyWidth()) || (valueSize != null && valueSize != idx.valueWidth())) {
            throw usageError(file + " exists with key width " + idx.keyWidth() + " and value width "
                    + idx.valueWidth() + "; --key-size and --value-size apply only when FILE is created");
        }
    }

    /**
     * The lines of the inputs (a line feed ends one; a last line without one counts too): at least the
     * records they hold, the entries a load can add. -1 when an input is not a regular file.
     */
    private static long countLines(List<Input> sources, Progress progress) {
        long lines = 0;
        for (Input input : sources) {
            if (!input.regularFile()) {
                return -1;
            }
        }
        progress.startPhase();
        ByteBuffer buffer = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        for (Input input : sources) {
            try (FileChannel channel = FileChannel.open(input.path(), StandardOpenOption.READ)) {
                byte last = '\n';
                long size = channel.size();
                long done = 0;
                for (int n; (n = channel.read(buffer.clear())) > 0; ) {
                    lines += lineFeeds(buffer.array(), n);
                    last = buffer.get(n - 1);
                    done += n;
                    progress.update("counting lines", lines, "lines", size > 0 ? (double) done / size : Double.NaN);
                }
                if (last != '\n') {
                    lines++;
                }
            } catch (IOException e) {
                throw cannotRead(input, e);
            }
        }
        return lines;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** The line feeds among the first {@code n} bytes, eight bytes at a time (a zero byte of x ^ 0x0a0a...). */
    static long lineFeeds(byte[] b, int n) {
        long count = 0;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            long x = (long) LONGS.get(b, i) ^ 0x0a0a0a0a0a0a0a0aL;
            // per byte: the high bit is set exactly when the byte is zero (no carries across bytes)
            long zero = ~(((x & 0x7f7f7f7f7f7f7f7fL) + 0x7f7f7f7f7f7f7f7fL) | x | 0x7f7f7f7f7f7f7f7fL);
            count += Long.bitCount(zero);
        }
        for (; i < n; i++) {
            if (b[i] == '\n') {
                count++;
            }
        }
        return count;
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

    private void putAll(HashIndex idx, List<Input> sources, Progress progress, long totalLines, long totalBytes) {
        progress.startPhase();
        int keyWidth = idx.maxKeyLength();
        int valueWidth = idx.maxValueLength();
        long bytesBefore = 0;
        for (Input input : sources) {
            try (EntryReader r = openReader(input)) {
                while (r.next()) {
                    read++;
                    String bad = r.problem() != null ? r.problem()
                            : r.keyLength() > keyWidth ? "key of " + r.keyLength()
                                    + " bytes is longer than the key width of " + keyWidth + " bytes"
                            : r.valueLength() > valueWidth ? "value of " + r.valueLength()
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

    void reject(BadLine bad) {
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

    static InputDataException cannotRead(Input input, IOException e) {
        String why = e instanceof NoSuchFileException ? "no such file"
                : e instanceof AccessDeniedException ? "permission denied"
                : e.getMessage();
        return new InputDataException("cannot read input " + input.name() + ": " + why, e);
    }

    private void printText(BulkLoad.Built built, Loaded after, long doublings, long sameSize, double seconds) {
        PrintWriter out = out();
        if (built != null) {
            out.println("created " + file + (variableFile ? ": variable lengths" : ": key width " + after.keyWidth()
                    + " bytes, value width " + after.valueWidth() + " bytes") + ", presized for "
                    + Figures.count(built.presizedFor()) + " entries");
        } else {
            out.println("loaded into " + file + (variableFile ? ": variable lengths"
                    : ": key width " + after.keyWidth() + " bytes, value width " + after.valueWidth() + " bytes"));
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
        if (reservedFor > 0) {
            line(out, "made room for", Figures.count(reservedFor) + " entries, in one growth before the puts");
        }
        line(out, "growths done", Figures.count(doublings) + " doublings, " + Figures.count(sameSize) + " same-size");
        line(out, "file bytes", Figures.bytes(after.fileBytes()));
        line(out, "bytes per entry", Figures.decimal(after.bytesPerEntry(), 1));
        line(out, "seconds", Figures.decimal(seconds, 2));
        line(out, "entries/s", Figures.count(Math.round(read / seconds)));
    }

    private static void line(PrintWriter out, String label, String value) {
        out.printf("%-18s%s%n", label, value);
    }

    private void printJson(boolean create, Loaded after, long doublings, long sameSize, double seconds) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("path", file.toString());
        o.put("created", create);
        o.put("variable_lengths", variableFile);
        o.put("key_size", variableFile ? null : after.keyWidth());
        o.put("value_size", variableFile ? null : after.valueWidth());
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
        o.put("reserved_for", reservedFor);
        o.put("doublings", doublings);
        o.put("same_size_growths", sameSize);
        o.put("file_bytes", after.fileBytes());
        o.put("bytes_per_entry", after.bytesPerEntry());
        o.put("seconds", seconds);
        o.put("entries_per_second", read / seconds);
        out().println(Json.write(o));
    }
}
