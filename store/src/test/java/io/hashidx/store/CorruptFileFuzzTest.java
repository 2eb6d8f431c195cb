package io.hashidx.store;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.AnnotatedElementContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.io.TempDirFactory;

/**
 * Coverage-guided fuzzing of damaged files with Jazzer. The promise under test: whatever bytes a
 * file holds, every operation either works or throws the library's own {@link HashIndexException}
 * (CORRUPT with a file offset, NOT_HASHIDX_FILE or UNSUPPORTED_VERSION), and terminates: never
 * another exception (index out of bounds, illegal argument, arithmetic, negative array size ...),
 * never an error ({@code InternalError} from SIGBUS, {@code OutOfMemoryError}, stack overflow),
 * never an iteration that does not end.
 *
 * <p>A fuzzer input is not a file but an edit script applied to one of the valid files of
 * {@link FuzzSeeds}: overwrites at fuzzer-chosen offsets (any byte, or a tophash byte, a link word,
 * a slot length, a live-area word of a chosen cell or slot, or a whole cell copied over another)
 * and truncation. {@link #damagedFile} leaves the checksummed header copies to chance (a damaged copy
 * is simply not used); {@link #damagedHeader} edits header fields and then fixes the checksum, so
 * that an impossible geometry gets past the CRC. Each damaged file is opened read-only, then
 * read-write (reads, then puts, overwrites, removes, finishing a growth, reads again), then read-only
 * again.
 *
 * <p>An input means a damaged file only through the order of the {@code consume} calls below and the
 * seeds: changing either gives the committed inputs other meanings (they still run, but may no longer
 * reproduce what they found). {@link FuzzFindingsTest} pins every finding independently of both.
 *
 * <p>Without {@code JAZZER_FUZZ} (every {@code mvn verify}) each target runs once on the empty input
 * and once per file under {@code src/test/resources/io/hashidx/store/CorruptFileFuzzTestInputs/<target>/}:
 * the regression corpus, including every crash the fuzzer found. README.md, "Fuzzing", shows how to
 * fuzz for longer. The {@link Timeout} bounds one input in both modes, so a loop is a failure, not a
 * stuck build: JUnit enforces it per input in regression mode; while fuzzing, Jazzer hands it to
 * libFuzzer as the per-input {@code -timeout} and store/pom.xml turns JUnit's own timeouts off
 * (the whole fuzzing run is one JUnit invocation, which JUnit would otherwise stop after 20 s).
 */
class CorruptFileFuzzTest {
    @TempDir(factory = InMemoryTempDir.class)
    static Path dir;

    private static List<FuzzSeeds.Seed> seeds;
    private static Path file;

    /**
     * A fuzzer writes and maps a few hundred files a second: in memory (/dev/shm) where the machine has
     * it, or under {@code -Dhashidx.fuzz.dir=DIR}, e.g. a small tmpfs, so that a bug that makes a file
     * grow without end fills that and shows as DISK_FULL instead of filling the machine's memory.
     */
    static final class InMemoryTempDir implements TempDirFactory {
        @Override
        public Path createTempDirectory(AnnotatedElementContext element, ExtensionContext context) throws IOException {
            String chosen = System.getProperty("hashidx.fuzz.dir");
            Path shm = Path.of("/dev/shm");
            if (chosen != null) {
                return Files.createTempDirectory(Path.of(chosen), "hashidx-fuzz");
            }
            return Files.isDirectory(shm) && Files.isWritable(shm)
                    ? Files.createTempDirectory(shm, "hashidx-fuzz")
                    : Files.createTempDirectory("hashidx-fuzz");
        }
    }

    @BeforeAll
    static void buildSeeds() {
        seeds = FuzzSeeds.build(dir);
        file = dir.resolve("damaged.hidx");
    }

    @FuzzTest(maxDuration = "30s")
    @Timeout(value = 20, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void damagedFile(FuzzedDataProvider data) {
        FuzzSeeds.Seed seed = seeds.get(data.consumeInt(0, seeds.size() - 1));
        byte[] bytes = seed.bytes().clone();
        int length = bytes.length;
        int edits = data.consumeInt(0, 6);
        for (int n = 0; n < edits && length > 0; n++) {
            int cell = data.consumeInt(0, seed.cells() - 1);
            int slot = data.consumeInt(0, BucketLayout.SLOTS - 1);
            switch (data.consumeInt(0, 7)) {
                case 0 -> FuzzSeeds.putByte(bytes, length, data.consumeInt(0, length - 1), data.consumeByte());
                case 1 -> FuzzSeeds.putByte(bytes, length, seed.cellOffsets()[cell] + BucketLayout.TOPHASH_OFFSET + slot,
                        data.consumeBoolean() ? data.consumeInt(0, BucketLayout.MIN_TOPHASH) : data.consumeInt(0, 255));
                case 2 -> {
                    // the overflow link, the reserved word (a free run's next run), or a free run's length
                    int field = BucketLayout.OVERFLOW_OFFSET + 8 * data.consumeInt(0, 2);
                    FuzzSeeds.putLong(bytes, length, seed.cellOffsets()[cell] + field, cellValue(data, seed.cells()));
                }
                case 3 -> {
                    boolean value = data.consumeBoolean();
                    int width = value ? seed.valueWidth() : seed.keyWidth();
                    int stored = data.consumeBoolean() ? data.consumeInt(0, width + 2) : data.consumeInt();
                    FuzzSeeds.putLength(bytes, length, value ? seed.valueLengthOffset(cell, slot) : seed.slotOffset(cell, slot),
                            value ? seed.valueLengthBytes() : seed.keyLengthBytes(), stored);
                }
                case 4 -> editLiveArea(data, seed, bytes, length);
                case 5 -> {
                    int to = data.consumeInt(0, seed.cells() - 1);
                    long from = seed.cellOffsets()[cell];
                    long into = seed.cellOffsets()[to];
                    for (int i = 0; i < seed.stride() && into + i < length; i++) {
                        bytes[(int) (into + i)] = seed.bytes()[(int) (from + i)];
                    }
                }
                case 6 -> {
                    for (int i = 0; i < seed.stride(); i++) {
                        FuzzSeeds.putByte(bytes, length, seed.cellOffsets()[cell] + i, 0);
                    }
                }
                default -> length = data.consumeInt(0, length);
            }
        }
        exercise(Arrays.copyOf(bytes, length), seed);
    }

    /** One header field: its offset in a copy and its size (4 or 8 bytes). */
    private record Field(int offset, int size) {
    }

    private static final Field[] HEADER_FIELDS = headerFields();

    private static Field[] headerFields() {
        int[] ints = {Header.READ_VERSION_OFFSET, Header.WRITE_VERSION_OFFSET, Header.KEY_WIDTH_OFFSET,
                Header.VALUE_WIDTH_OFFSET, Header.STRIDE_OFFSET, Header.SLOTS_OFFSET};
        Field[] fields = new Field[ints.length + (Header.RESERVED_OFFSET - Header.BUCKET_COUNT_OFFSET) / 8 + 3];
        int n = 0;
        for (int at : ints) {
            fields[n++] = new Field(at, 4);
        }
        fields[n++] = new Field(Header.GENERATION_OFFSET, 8);
        fields[n++] = new Field(Header.SEED_OFFSET, 8);
        fields[n++] = new Field(Header.CHUNK_SIZE_OFFSET, 8);
        for (int at = Header.BUCKET_COUNT_OFFSET; at < Header.RESERVED_OFFSET; at += 8) {
            fields[n++] = new Field(at, 8);
        }
        return fields;
    }

    @FuzzTest(maxDuration = "30s")
    @Timeout(value = 20, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void damagedHeader(FuzzedDataProvider data) {
        FuzzSeeds.Seed seed = seeds.get(data.consumeInt(0, seeds.size() - 1));
        byte[] bytes = seed.bytes().clone();
        ByteBuffer copy = ByteBuffer.wrap(Arrays.copyOf(bytes, Header.COPY_SIZE)).order(ByteOrder.LITTLE_ENDIAN);
        int edits = data.consumeInt(1, 4);
        for (int n = 0; n < edits; n++) {
            switch (data.consumeInt(0, 3)) {
                case 0, 1 -> {
                    Field f = HEADER_FIELDS[data.consumeInt(0, HEADER_FIELDS.length - 1)];
                    long old = f.size() == 4 ? copy.getInt(f.offset()) : copy.getLong(f.offset());
                    long value = switch (data.consumeInt(0, 3)) {
                        case 0 -> data.consumeLong(-2, seed.cells() + 2L);
                        case 1 -> (1L << data.consumeInt(0, 63)) + data.consumeInt(-1, 1);
                        case 2 -> old + data.consumeInt(-3, 3);
                        default -> data.consumeLong();
                    };
                    if (f.size() == 4) {
                        copy.putInt(f.offset(), (int) value);
                    } else {
                        copy.putLong(f.offset(), value);
                    }
                }
                case 2 -> copy.put(data.consumeInt(0, Header.CRC_OFFSET - 1), data.consumeByte());
                default -> editLiveArea(data, seed, bytes, bytes.length);
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(copy.array(), 0, Header.CRC_OFFSET);
        copy.putInt(Header.CRC_OFFSET, (int) crc.getValue());
        // both copies, or copy A next to the old copy B, or copy A next to a torn copy B
        int where = data.consumeInt(0, 2);
        System.arraycopy(copy.array(), 0, bytes, Header.COPY_A, Header.COPY_SIZE);
        if (where == 0) {
            System.arraycopy(copy.array(), 0, bytes, Header.COPY_B, Header.COPY_SIZE);
        } else if (where == 2) {
            bytes[Header.COPY_B + Header.CRC_OFFSET] ^= 1;
        }
        exercise(bytes, seed);
    }

    /** Overwrites one word of the live area (count, intent op, intent slot, count before), outside the checksums. */
    private static void editLiveArea(FuzzedDataProvider data, FuzzSeeds.Seed seed, byte[] bytes, int length) {
        int word = data.consumeInt(0, 3);
        long value = switch (word) {
            case 1 -> data.consumeLong(0, Header.INTENT_REMOVE + 1);
            case 2 -> data.consumeBoolean() ? data.consumeLong(-1, seed.cells() * (long) BucketLayout.SLOTS) : data.consumeLong();
            default -> data.consumeBoolean() ? data.consumeLong(-1, 2000) : data.consumeLong();
        };
        FuzzSeeds.putLong(bytes, length, Header.LIVE_COUNT_OFFSET + 8L * word, value);
    }

    /** A value for a word that names a cell (stored plus one): mostly a nearby cell, sometimes anything. */
    private static long cellValue(FuzzedDataProvider data, int cells) {
        return switch (data.consumeInt(0, 2)) {
            case 0 -> data.consumeLong(0, cells + 2L);
            case 1 -> data.consumeLong();
            default -> 0;
        };
    }

    // ---------------------------------------------------------------- the operations and what they may throw

    private static void exercise(byte[] bytes, FuzzSeeds.Seed seed) {
        try {
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        readOnlyPass(seed);
        HashIndex idx = open(() -> HashIndex.open(file));
        if (idx != null) {
            try {
                reads(idx, seed);
                writes(idx, seed);
                reads(idx, seed);
            } finally {
                attempt(idx::close);
            }
        }
        readOnlyPass(seed);
    }

    private static void readOnlyPass(FuzzSeeds.Seed seed) {
        HashIndex idx = open(() -> HashIndex.openReadOnly(file));
        if (idx != null) {
            try {
                reads(idx, seed);
            } finally {
                attempt(idx::close);
            }
        }
    }

    private interface Opener {
        HashIndex open();
    }

    /** The opened index, or null when opening threw an expected error. */
    private static HashIndex open(Opener opener) {
        try {
            return opener.open();
        } catch (HashIndexException e) {
            expected(e);
            return null;
        }
    }

    private static void reads(HashIndex idx, FuzzSeeds.Seed seed) {
        attempt(idx::size);
        for (byte[] key : seed.keys()) {
            if (key.length <= idx.keyWidth()) {
                attempt(() -> idx.get(key));
                attempt(() -> idx.get(key, new byte[idx.valueWidth()]));
                attempt(() -> idx.contains(key));
            }
        }
        attempt(() -> iterateAll(idx));
        attempt(idx::verify);
        attempt(idx::inspect);
        long buckets = idx.table().h.bucketCount;
        attempt(() -> idx.inspectBucket(0));
        attempt(() -> idx.inspectBucket(buckets - 1));
    }

    private static void writes(HashIndex idx, FuzzSeeds.Seed seed) {
        List<byte[]> keys = seed.keys();
        for (int i = 0; i < 6; i++) {
            byte[] key = i < 3 && i < keys.size() ? keys.get(i * 5 % keys.size()) : Fixtures.key8(100_000 + i);
            byte[] k = Arrays.copyOf(key, Math.min(key.length, idx.keyWidth()));
            byte[] v = Arrays.copyOf(Fixtures.value16Varying(i, i), Math.min(16, idx.valueWidth()));
            attempt(() -> idx.put(k, v));
        }
        for (int i = 0; i < Math.min(4, keys.size()); i++) {
            byte[] key = keys.get(i * 7 % keys.size());
            if (key.length <= idx.keyWidth()) {
                attempt(() -> idx.remove(key));
            }
        }
        attempt(idx::finishGrowth);
    }

    /**
     * Iterates the whole index. An iterator walks each bucket's chain once, and a chain longer than
     * the allocated cells is reported as a cycle, so it returns at most 8 entries per page for
     * buckets x cells pages; more means it does not end.
     */
    private static void iterateAll(HashIndex idx) {
        Header h = idx.table().h;
        long bound = h.bucketCount > Long.MAX_VALUE / 8 / Math.max(1, h.allocatedCells)
                ? Long.MAX_VALUE
                : 8 * h.bucketCount * Math.max(1, h.allocatedCells) + 8;
        long n = 0;
        for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(n)); it.hasNext(); ) {
            it.next();
            if (++n > bound) {
                throw new AssertionError("iteration returned more than " + bound + " entries: it does not end");
            }
        }
    }

    private static void attempt(Runnable op) {
        try {
            op.run();
        } catch (HashIndexException e) {
            expected(e);
        }
    }

    /** The errors a damaged file may cause: a format error naming the file, CORRUPT with an offset. */
    private static void expected(HashIndexException e) {
        boolean ok = e instanceof HashIndexException.FileFormat f
                && file.equals(e.file()) && e.getMessage().contains(file.toString())
                && switch (e.code()) {
                    case CORRUPT -> f.offset() >= 0;
                    case NOT_HASHIDX_FILE, UNSUPPORTED_VERSION -> true;
                    default -> false;
                };
        if (!ok) {
            throw new AssertionError("a damaged file must fail with CORRUPT (with an offset), NOT_HASHIDX_FILE or "
                    + "UNSUPPORTED_VERSION, not: " + e.getMessage(), e);
        }
    }
}
