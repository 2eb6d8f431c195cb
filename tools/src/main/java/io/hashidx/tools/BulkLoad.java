package io.hashidx.tools;

import io.hashidx.store.BulkBuilder;
import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
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
    record Built(long presizedFor, int keyWidth, int valueWidth, long entries) {
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

    Built run(long totalBytes) {
        int keyLimit = load.keySize != null ? load.keySize : Options.MAX_KEY_WIDTH;
        int valueLimit = load.valueSize != null ? load.valueSize : Options.MAX_VALUE_WIDTH;
        Options options = Options.widths(keyLimit, valueLimit).expectedEntries(load.expected == null ? 0 : load.expected);
        String[] phase = {"reading"};
        try (BulkBuilder builder = HashIndex.bulkBuilder(load.file, options)
                .memory(memory)
                .fitWidths(load.keySize == null, load.valueSize == null)
                .progress((p, done, total) -> {
                    if (!p.equals(phase[0])) {
                        phase[0] = p;
                        progress.startPhase();
                    }
                    progress.update(p, done, p.equals("writing") ? "buckets" : "records",
                            total > 0 ? (double) done / total : Double.NaN);
                })) {
            progress.startPhase();
            readAll(builder, keyLimit, valueLimit, totalBytes);
            BulkBuilder.Result r = builder.build();
            load.inserted = r.entries();
            load.replaced = r.replaced();
            return new Built(Math.max(options.expectedEntries(), r.added()), r.keyWidth(), r.valueWidth(), r.entries());
        }
    }

    private void readAll(BulkBuilder builder, int keyLimit, int valueLimit, long totalBytes) {
        long bytesBefore = 0;
        for (Path input : load.inputs) {
            try (EntryReader r = load.openReader(input)) {
                while (r.next()) {
                    load.read++;
                    String bad = r.problem() != null ? r.problem()
                            : r.key().length > keyLimit ? "key of " + r.key().length + " bytes is longer than the "
                                    + (load.keySize != null ? "key width of " : "largest key width of ") + keyLimit + " bytes"
                            : r.value().length > valueLimit ? "value of " + r.value().length + " bytes is longer than the "
                                    + (load.valueSize != null ? "value width of " : "largest value width of ") + valueLimit + " bytes"
                            : null;
                    if (bad != null) {
                        LoadCommand.BadLine line = new LoadCommand.BadLine(input, r.lineNumber(), bad);
                        if (!load.skipBad) {
                            throw new InputDataException("bad " + line.describe() + "; nothing was loaded: "
                                    + load.file + " was not created; fix the line, or pass --skip-bad to skip bad lines");
                        }
                        load.reject(line);
                    } else {
                        builder.add(r.key(), r.value());
                    }
                    if ((load.read & 1023) == 0) {
                        progress.update("reading", load.read, "records", totalBytes > 0
                                ? (double) (bytesBefore + r.bytesConsumed()) / totalBytes : Double.NaN);
                    }
                }
                bytesBefore += r.bytesConsumed();
            } catch (IOException e) {
                throw LoadCommand.cannotRead(input, e);
            }
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
