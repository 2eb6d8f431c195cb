package io.hashidx.tools;

import io.hashidx.store.BulkBuilder;
import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code hashidx load} into a new file: one pass over the inputs into a {@link BulkBuilder}, which
 * writes a variable-length file (no widths given) or measures the widths (unless given), presizes for the records read and writes the file front to
 * back. Nothing appears at the target until the file is complete, so a bad line (without
 * {@code --skip-bad}), an unreadable input or a kill leaves no file at all.
 */
final class BulkLoad {
    /** What the build wrote, for the summary. */
    record Built(long presizedFor, BulkBuilder.Result result) {
        LoadCommand.Loaded loaded() {
            return new LoadCommand.Loaded(result.keyWidth(), result.valueWidth(), result.entries(), result.buckets(),
                    0, 0, result.fileBytes());
        }
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+) ?([kmgt]?)(?:i?b)?");

    private final LoadCommand load;
    private final Progress progress;

    private final long memory;

    BulkLoad(LoadCommand load, Progress progress, long memory) {
        this.load = load;
        this.progress = progress;
        this.memory = memory;
    }

    Built run(List<LoadCommand.Input> sources, long totalBytes) {
        // no widths at all: variable lengths, the default for a new file (as 'hashidx create' makes)
        boolean variable = load.keySize == null && load.valueSize == null && !load.fitWidths;
        load.variableFile = variable;
        int keyLimit = variable ? Options.MAX_VARIABLE_LENGTH : load.keySize != null ? load.keySize : Options.MAX_KEY_WIDTH;
        int valueLimit = variable ? Options.MAX_VARIABLE_LENGTH
                : load.valueSize != null ? load.valueSize : Options.MAX_VALUE_WIDTH;
        Options options = (variable ? Options.variableLengths() : Options.widths(keyLimit, valueLimit))
                .expectedEntries(load.expected == null ? 0 : load.expected);
        String[] phase = {"reading"};
        try (BulkBuilder builder = HashIndex.bulkBuilder(load.file, options)
                .memory(memory)
                .fitWidths(load.keySize == null, load.valueSize == null)
                .progress((p, done, total) -> {
                    if (p.equals("partitioning") && done == total) {
                        return; // no run left to finish: nothing to show
                    }
                    if (!p.equals(phase[0])) {
                        phase[0] = p;
                        progress.startPhase();
                    }
                    progress.update(p, done, p.equals("writing") ? "buckets" : "records",
                            total > 0 ? (double) done / total : Double.NaN);
                })) {
            progress.startPhase();
            readAll(builder, sources, keyLimit, valueLimit, totalBytes);
            BulkBuilder.Result r = builder.build();
            load.inserted = r.entries();
            load.replaced = r.replaced();
            return new Built(Math.max(options.expectedEntries(), r.added()), r);
        }
    }

    /**
     * Adds every good record of the inputs, in order. A second thread parses the inputs while this
     * one checks the records and adds them, which hashes and partitions them. The records travel in
     * a few chunks that go back and forth, their bytes copied into each chunk's buffer: no record
     * allocates.
     */
    private void readAll(BulkBuilder builder, List<LoadCommand.Input> sources, int keyLimit, int valueLimit,
                         long totalBytes) {
        Parser parser = new Parser(sources);
        Thread thread = Thread.ofPlatform().daemon().name("hashidx-parse").start(parser::run);
        try {
            for (Chunk c = parser.take(); c != Parser.END; c = parser.take()) {
                byte[] data = c.data;
                for (int i = 0; i < c.size; i++) {
                    load.read++;
                    int keyLength = c.keyLength[i];
                    int valueLength = c.valueLength[i];
                    String bad = c.problems[i] != null ? c.problems[i]
                            : keyLength > keyLimit ? "key of " + keyLength + " bytes is longer than the "
                                    + (load.variableFile ? "limit of a variable-length file, "
                                    : load.keySize != null ? "key width of " : "largest key width of ") + keyLimit + " bytes"
                            : valueLength > valueLimit ? "value of " + valueLength + " bytes is longer than the "
                                    + (load.variableFile ? "limit of a variable-length file, "
                                    : load.valueSize != null ? "value width of " : "largest value width of ") + valueLimit + " bytes"
                            : null;
                    if (bad != null) {
                        LoadCommand.BadLine line = new LoadCommand.BadLine(c.input.name(), c.lines[i], bad);
                        if (!load.skipBad) {
                            throw new InputDataException("bad " + line.describe() + "; nothing was loaded: "
                                    + load.file + " was not created; fix the line, or pass --skip-bad to skip bad lines");
                        }
                        load.reject(line);
                    } else {
                        int keyAt = c.keyAt[i];
                        builder.add(data, keyAt, keyLength, data, keyAt + keyLength, valueLength);
                    }
                }
                progress.update("reading", load.read, "records",
                        totalBytes > 0 ? (double) c.bytesRead / totalBytes : Double.NaN);
                parser.recycle(c);
            }
        } finally {
            parser.stopped = true;
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Parsed records of one input, in input order: record i's key is {@code keyLength[i]} bytes of
     * {@link #data} from {@code keyAt[i]}, its value follows it; {@code problems[i]} is null for an
     * entry.
     */
    private static final class Chunk {
        static final int SIZE = 4096;
        LoadCommand.Input input;
        byte[] data = new byte[SIZE * 64];
        int used;
        final int[] keyAt = new int[SIZE];
        final int[] keyLength = new int[SIZE];
        final int[] valueLength = new int[SIZE];
        final long[] lines = new long[SIZE];
        final String[] problems = new String[SIZE];
        int size;
        /** Input bytes consumed up to the end of this chunk, over all inputs (for progress). */
        long bytesRead;
        RuntimeException failure;

        /** Empties the chunk for records of {@code from}. */
        Chunk reset(LoadCommand.Input from) {
            input = from;
            used = 0;
            size = 0;
            return this;
        }

        boolean full() {
            return size == SIZE;
        }

        /** Whether the current record of {@code r} fits the data buffer as it is. */
        boolean fits(EntryReader r) {
            return r.problem() != null || used + r.keyLength() + r.valueLength() <= data.length;
        }

        /** Appends the current record of {@code r}: its bytes are copied, the reader may go on. */
        void add(EntryReader r) {
            keyAt[size] = used;
            lines[size] = r.lineNumber();
            problems[size] = r.problem();
            if (r.problem() == null) {
                int k = r.keyLength();
                int v = r.valueLength();
                if (used + k + v > data.length) {
                    // one record larger than the buffer: only in an otherwise empty chunk
                    data = Arrays.copyOf(data, Math.max(2 * data.length, used + k + v));
                }
                System.arraycopy(r.keyArray(), r.keyOffset(), data, used, k);
                System.arraycopy(r.valueArray(), r.valueOffset(), data, used + k, v);
                keyLength[size] = k;
                valueLength[size] = v;
                used += k + v;
            }
            size++;
        }
    }

    /** Parses the inputs on its own thread and hands chunks over through a short queue. */
    private final class Parser {
        static final Chunk END = new Chunk();
        private static final int CHUNKS = 4;
        private final ArrayBlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(CHUNKS + 1);
        private final ArrayBlockingQueue<Chunk> free = new ArrayBlockingQueue<>(CHUNKS);
        private final List<LoadCommand.Input> sources;
        volatile boolean stopped;

        Parser(List<LoadCommand.Input> sources) {
            this.sources = sources;
            for (int i = 0; i < CHUNKS; i++) {
                free.add(new Chunk());
            }
        }

        /** Gives a chunk the adding thread is done with back to the parser. */
        void recycle(Chunk c) {
            free.add(c);
        }

        /** The next empty chunk, once the adding thread gave one back. */
        private Chunk empty(LoadCommand.Input input) {
            try {
                Chunk c;
                while ((c = free.poll(100, TimeUnit.MILLISECONDS)) == null) {
                    if (stopped) {
                        throw new Stopped();
                    }
                }
                return c.reset(input);
            } catch (InterruptedException e) {
                throw new Stopped();
            }
        }

        void run() {
            long before = 0;
            try {
                for (LoadCommand.Input input : sources) {
                    try (EntryReader r = load.openReader(input)) {
                        Chunk c = empty(input);
                        while (r.next()) {
                            if (c.full() || (!c.fits(r) && c.size > 0)) {
                                c.bytesRead = before + r.bytesConsumed();
                                hand(c);
                                c = empty(input);
                            }
                            c.add(r);
                        }
                        before += r.bytesConsumed();
                        c.bytesRead = before;
                        hand(c);
                    } catch (IOException e) {
                        throw LoadCommand.cannotRead(input, e);
                    }
                }
                hand(END);
            } catch (Stopped e) {
                // the adding thread gave up (a bad line, a failed build): nothing more to read
            } catch (RuntimeException e) {
                Chunk failed = new Chunk();
                failed.failure = e;
                try {
                    hand(failed);
                } catch (Stopped ignored) {
                    // nobody is waiting for the failure any more
                }
            }
        }

        private void hand(Chunk c) {
            try {
                while (!queue.offer(c, 100, TimeUnit.MILLISECONDS)) {
                    if (stopped) {
                        throw new Stopped();
                    }
                }
            } catch (InterruptedException e) {
                throw new Stopped();
            }
        }

        Chunk take() {
            try {
                Chunk c = queue.take();
                if (c.failure != null) {
                    throw c.failure;
                }
                return c;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while reading the inputs", e);
            }
        }
    }

    private static final class Stopped extends RuntimeException {
        Stopped() {
            super(null, null, false, false);
        }
    }

    /** {@code 512m}, {@code 2g}, {@code 1GiB}, {@code 1048576}: binary units, case ignored. */
    static long memoryBytes(String text) {
        Matcher m = SIZE.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (m.matches()) {
            int unit = m.group(2).isEmpty() ? 0 : "kmgt".indexOf(m.group(2)) + 1;
            try {
                return Math.multiplyExact(Long.parseLong(m.group(1)), 1L << (10 * unit));
            } catch (ArithmeticException | NumberFormatException e) {
                // too large: reported below
            }
        }
        throw new IllegalArgumentException("--memory " + text + " is not a size such as 512m, 2g or 1073741824");
    }
}
