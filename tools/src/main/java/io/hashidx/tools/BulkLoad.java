package io.hashidx.tools;

import io.hashidx.store.BulkBuilder;
import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code hashidx load} into a new file: one pass over the inputs into a {@link BulkBuilder}, which
 * measures the widths (unless given), presizes for the records read and writes the file front to
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
        int keyLimit = load.keySize != null ? load.keySize : Options.MAX_KEY_WIDTH;
        int valueLimit = load.valueSize != null ? load.valueSize : Options.MAX_VALUE_WIDTH;
        Options options = Options.widths(keyLimit, valueLimit).expectedEntries(load.expected == null ? 0 : load.expected);
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
     * Adds every good record of the inputs, in order. A second thread parses the inputs (the costly
     * part) while this one checks the records and adds them, which hashes and partitions them.
     */
    private void readAll(BulkBuilder builder, List<LoadCommand.Input> sources, int keyLimit, int valueLimit,
                         long totalBytes) {
        Parser parser = new Parser(sources);
        Thread thread = Thread.ofPlatform().daemon().name("hashidx-parse").start(parser::run);
        try {
            for (Chunk c = parser.take(); c != Parser.END; c = parser.take()) {
                for (int i = 0; i < c.size; i++) {
                    load.read++;
                    byte[] key = c.keys[i];
                    byte[] value = c.values[i];
                    String bad = c.problems[i] != null ? c.problems[i]
                            : key.length > keyLimit ? "key of " + key.length + " bytes is longer than the "
                                    + (load.keySize != null ? "key width of " : "largest key width of ") + keyLimit + " bytes"
                            : value.length > valueLimit ? "value of " + value.length + " bytes is longer than the "
                                    + (load.valueSize != null ? "value width of " : "largest value width of ") + valueLimit + " bytes"
                            : null;
                    if (bad != null) {
                        LoadCommand.BadLine line = new LoadCommand.BadLine(c.input.name(), c.lines[i], bad);
                        if (!load.skipBad) {
                            throw new InputDataException("bad " + line.describe() + "; nothing was loaded: "
                                    + load.file + " was not created; fix the line, or pass --skip-bad to skip bad lines");
                        }
                        load.reject(line);
                    } else {
                        builder.add(key, value);
                    }
                }
                progress.update("reading", load.read, "records",
                        totalBytes > 0 ? (double) c.bytesRead / totalBytes : Double.NaN);
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

    /** Parsed records of one input, in input order; {@code problems[i]} is null for an entry. */
    private static final class Chunk {
        static final int SIZE = 1024;
        final LoadCommand.Input input;
        final byte[][] keys = new byte[SIZE][];
        final byte[][] values = new byte[SIZE][];
        final long[] lines = new long[SIZE];
        final String[] problems = new String[SIZE];
        int size;
        /** Input bytes consumed up to the end of this chunk, over all inputs (for progress). */
        long bytesRead;
        RuntimeException failure;

        Chunk(LoadCommand.Input input) {
            this.input = input;
        }
    }

    /** Parses the inputs on its own thread and hands chunks over through a short queue. */
    private final class Parser {
        static final Chunk END = new Chunk(null);
        private final ArrayBlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(8);
        private final List<LoadCommand.Input> sources;
        volatile boolean stopped;

        Parser(List<LoadCommand.Input> sources) {
            this.sources = sources;
        }

        void run() {
            long before = 0;
            try {
                for (LoadCommand.Input input : sources) {
                    try (EntryReader r = load.openReader(input)) {
                        Chunk c = new Chunk(input);
                        while (r.next()) {
                            c.keys[c.size] = r.key();
                            c.values[c.size] = r.value();
                            c.lines[c.size] = r.lineNumber();
                            c.problems[c.size] = r.problem();
                            if (++c.size == Chunk.SIZE) {
                                c.bytesRead = before + r.bytesConsumed();
                                hand(c);
                                c = new Chunk(input);
                            }
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
                Chunk failed = new Chunk(null);
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
