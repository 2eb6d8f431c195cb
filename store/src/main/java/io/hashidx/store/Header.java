package io.hashidx.store;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The header page (the first 4096 bytes of the file): two checksummed copies of the header and,
 * outside the checksums, the live area that changes on every write.
 *
 * <pre>
 *  0     copy A (512 bytes, CRC32C in its last 4 bytes)
 *  512   copy B (same layout)
 *  1024  live area: base entry count, the version-1 intent record, the reuse epoch
 *  1088  8 writer lanes of 64 bytes: intent record, entry count delta, buckets made odd, pending record
 *  1600  reserved, zero, up to 4096
 * </pre>
 *
 * Buckets change in place, so copies are not copy-on-write: every update writes copy A then copy B,
 * each with a new generation. The newest valid copy wins; when one copy is torn, the other lags by at
 * most one update, and every field it may lag in is safe to lag (see FORMAT.md, "Header copies").
 */
final class Header {
    private static final java.lang.invoke.VarHandle INT_LE =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    static final byte[] MAGIC = "HASHIDX\0".getBytes(StandardCharsets.US_ASCII);
    /**
     * Version 2 added the bucket versions (the reserved word of primary buckets), the reuse epoch and
     * the writer lanes in the live area, and growth by 2^k ({@link Table#reserve}, FORMAT.md section 7).
     * A version-1 file reads as a version-2 file whose versions and epoch are all zero; opening it
     * read-write marks it version 2 before anything else is written. Version 3 is a variable-length
     * file: version 2 plus out-of-line entries in record cells (the header's flags and record_cells,
     * each lane's pending record, chain-record ops 3 and 4). Fixed-width files stay version 2.
     */
    static final int READ_VERSION = 3;
    static final int WRITE_VERSION = 3;
    /** The version of fixed-width files, and the one a version-1 file is upgraded to. */
    static final int FIXED_FORMAT_VERSION = 2;
    /** Variable-length files are version 3: out-of-line entries and record cells. */
    static final int VARIABLE_FORMAT_VERSION = 3;
    /** Flag bit: keys and values have any length; widths are inline widths. */
    static final long FLAG_VARIABLE = 1;

    static final int COPY_SIZE = 512;
    static final int COPY_A = 0;
    static final int COPY_B = COPY_A + COPY_SIZE;

    // ---- fields of one copy ----
    static final int MAGIC_OFFSET = 0;
    static final int READ_VERSION_OFFSET = MAGIC_OFFSET + 8;
    static final int WRITE_VERSION_OFFSET = READ_VERSION_OFFSET + 4;
    static final int GENERATION_OFFSET = WRITE_VERSION_OFFSET + 4;
    static final int KEY_WIDTH_OFFSET = GENERATION_OFFSET + 8;
    static final int VALUE_WIDTH_OFFSET = KEY_WIDTH_OFFSET + 4;
    static final int SEED_OFFSET = VALUE_WIDTH_OFFSET + 4;
    static final int CHUNK_SIZE_OFFSET = SEED_OFFSET + 8;
    static final int STRIDE_OFFSET = CHUNK_SIZE_OFFSET + 8;
    static final int SLOTS_OFFSET = STRIDE_OFFSET + 4;
    static final int BUCKET_COUNT_OFFSET = SLOTS_OFFSET + 4;
    static final int BUCKETS_CELL_OFFSET = BUCKET_COUNT_OFFSET + 8;
    static final int OLD_BUCKET_COUNT_OFFSET = BUCKETS_CELL_OFFSET + 8;
    static final int OLD_BUCKETS_CELL_OFFSET = OLD_BUCKET_COUNT_OFFSET + 8;
    static final int EVACUATED_OFFSET = OLD_BUCKETS_CELL_OFFSET + 8;
    static final int OVERFLOW_PAGES_OFFSET = EVACUATED_OFFSET + 8;
    static final int OLD_OVERFLOW_PAGES_OFFSET = OVERFLOW_PAGES_OFFSET + 8;
    static final int FREE_ROOT_OFFSET = OLD_OVERFLOW_PAGES_OFFSET + 8;
    static final int FREE_CELLS_OFFSET = FREE_ROOT_OFFSET + 8;
    static final int ALLOCATED_CELLS_OFFSET = FREE_CELLS_OFFSET + 8;
    static final int RETIRED_CELL_OFFSET = ALLOCATED_CELLS_OFFSET + 8;
    static final int RETIRED_BUCKETS_OFFSET = RETIRED_CELL_OFFSET + 8;
    static final int RETIRED_OVERFLOW_OFFSET = RETIRED_BUCKETS_OFFSET + 8;
    static final int JOURNAL_CELL_OFFSET = RETIRED_OVERFLOW_OFFSET + 8;
    static final int DOUBLINGS_OFFSET = JOURNAL_CELL_OFFSET + 8;
    static final int SAME_SIZE_GROWTHS_OFFSET = DOUBLINGS_OFFSET + 8;
    static final int COUNT_OFFSET = SAME_SIZE_GROWTHS_OFFSET + 8;
    /** Retired arrays after the oldest, which is at RETIRED_CELL_OFFSET: 7 more entries of 3 words. */
    static final int MORE_RETIRED_OFFSET = COUNT_OFFSET + 8;
    static final int RETIRED_SLOTS = 8;
    static final int RETIRED_ENTRY_SIZE = 24;
    static final int FLAGS_OFFSET = MORE_RETIRED_OFFSET + (RETIRED_SLOTS - 1) * RETIRED_ENTRY_SIZE;
    /** Cells that hold records (out-of-line entries) in a variable-length file; 0 in a fixed-width one. */
    static final int RECORD_CELLS_OFFSET = FLAGS_OFFSET + 8;
    static final int RESERVED_OFFSET = RECORD_CELLS_OFFSET + 8;
    static final int CRC_OFFSET = COPY_SIZE - 4;

    // ---- live area, outside the checksums; 8-byte fields at aligned offsets ----
    static final int LIVE_OFFSET = COPY_B + COPY_SIZE;
    static final int LIVE_COUNT_OFFSET = LIVE_OFFSET;
    static final int INTENT_OP_OFFSET = LIVE_COUNT_OFFSET + 8;
    static final int INTENT_SLOT_OFFSET = INTENT_OP_OFFSET + 8;
    static final int INTENT_COUNT_BEFORE_OFFSET = INTENT_SLOT_OFFSET + 8;
    /**
     * The reuse epoch: advanced whenever the set of primary buckets changes (a growth starts or ends),
     * after the new geometry is in place and before any cell of an array that left it is written. A
     * lock-free reader reads it before and after; a change means that what it read may be stale.
     */
    static final int EPOCH_OFFSET = INTENT_COUNT_BEFORE_OFFSET + 8;
    /**
     * Writer lanes: each writer in flight holds one lane, which records its operation (as the version-1
     * intent record did for the one writer), its own share of the entry count, and the primary buckets
     * whose versions it made odd. Lane {@code i} stages overwrites in slot {@code i} of the journal cell.
     */
    static final int LANES = 8;
    static final int LANES_OFFSET = EPOCH_OFFSET + 32;
    static final int LANE_SIZE = 64;
    static final int LANE_OP = 0;
    static final int LANE_SLOT = 8;
    static final int LANE_COUNT_BEFORE = 16;
    static final int LANE_COUNT = 24;
    static final int LANE_BUCKETS = 32;
    static final int LANE_BUCKET_WORDS = 3;
    /** First cell + 1 of the record being written for the lane's write in flight (0: none); variable-length files. */
    static final int LANE_PENDING_RECORD = LANE_BUCKETS + 8 * LANE_BUCKET_WORDS;
    static final int LIVE_END = LANES_OFFSET + LANES * LANE_SIZE;

    static final long INTENT_NONE = 0;
    static final long INTENT_INSERT = 1;
    static final long INTENT_OVERWRITE = 2;
    static final long INTENT_REMOVE = 3;

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final java.lang.invoke.VarHandle LIVE_WORD = LONG.varHandle();

    // ---- the fields, as of the newest valid copy plus this process's updates ----
    long generation;
    int readVersion = FIXED_FORMAT_VERSION;
    int writeVersion = FIXED_FORMAT_VERSION;
    long flags;
    long recordCells;
    int keyWidth;
    int valueWidth;
    long seed;
    long chunkSize;
    int stride;
    long bucketCount;
    long bucketsCell;
    long oldBucketCount;
    long oldBucketsCell;
    long evacuated;
    long overflowPages;
    long oldOverflowPages;
    long freeRoot = BucketLayout.NONE;
    long freeCells;
    long allocatedCells;
    /** Retired arrays waiting for iterators, oldest first: first cell (NONE = unused), buckets, overflow pages. */
    final long[] retiredCell = filled(RETIRED_SLOTS, BucketLayout.NONE);
    final long[] retiredBuckets = new long[RETIRED_SLOTS];
    final long[] retiredOverflow = new long[RETIRED_SLOTS];
    long journalCell;
    long doublings;
    long sameSizeGrowths;
    long count;
    /** Where {@link #encode} takes the count from when set (the table's live count), else {@link #count}. */
    java.util.function.LongSupplier countSource;

    /** What was found in each copy when the file was opened: for inspect. */
    record CopyState(long generation, boolean valid) {
    }

    /** The copies as found when the file was opened; both are this header once it has written them. */
    private CopyState openedA = new CopyState(0, false);
    private CopyState openedB = new CopyState(0, false);
    private boolean written;

    /** Copy A's state: as found at open, or this header's generation once it has been written (no allocation per write). */
    CopyState copyA() {
        return written ? new CopyState(generation, true) : openedA;
    }

    /** Copy B's state, as {@link #copyA()}. */
    CopyState copyB() {
        return written ? new CopyState(generation, true) : openedB;
    }
    /** CRC32C of the copy in effect: the newest valid one when the file was opened, then the last one written. */
    int crc;

    boolean growing() {
        return oldBucketCount != 0;
    }

    /**
     * While growing, {@code k} where the current array has {@code 2^k} times the old array's buckets
     * (0 for a same-size growth); old bucket b moves to new buckets {@code b << k .. ((b + 1) << k) - 1}.
     */
    int growthShift() {
        return Long.numberOfTrailingZeros(bucketCount / oldBucketCount);
    }

    /** While growing: the old bucket whose entries go to new bucket {@code newIndex}. */
    long oldIndexOf(long newIndex) {
        return newIndex >>> growthShift();
    }

    /**
     * The number of the latest growth started since the file was created (doublings and same-size
     * growths); reader processes pin arrays by it (FORMAT.md section 11).
     */
    long growths() {
        return doublings + sameSizeGrowths;
    }

    /**
     * The oldest retirement whose array a reader of this header may read: the old array of the growth
     * under way is retired at its end, the current array at the end of the next growth. A reader
     * process pins this (FORMAT.md section 11).
     */
    long oldestReadable() {
        return growing() ? growths() : growths() + 1;
    }

    boolean variable() {
        return (flags & FLAG_VARIABLE) != 0;
    }

    /** Encodes this header as one 512-byte copy with its checksum. */
    byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(COPY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        encodeInto(b, new CRC32C());
        return b.array();
    }

    /**
     * A copy that {@link #store} encodes into and writes from: a header store (every write that moves
     * a growth's evacuation mark makes one) allocates nothing, so it makes no garbage collection pauses.
     */
    private final byte[] storeCopy = new byte[COPY_SIZE];
    private final ByteBuffer storeBuffer = ByteBuffer.wrap(storeCopy).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C storeCrc = new CRC32C();

    /** Encodes this header into {@code b} (512 bytes, little-endian, backed by an array), checksum last. */
    private void encodeInto(ByteBuffer b, CRC32C crc) {
        b.put(MAGIC_OFFSET, MAGIC);
        b.putInt(READ_VERSION_OFFSET, readVersion);
        b.putInt(WRITE_VERSION_OFFSET, writeVersion);
        b.putLong(GENERATION_OFFSET, generation);
        b.putInt(KEY_WIDTH_OFFSET, keyWidth);
        b.putInt(VALUE_WIDTH_OFFSET, valueWidth);
        b.putLong(SEED_OFFSET, seed);
        b.putLong(CHUNK_SIZE_OFFSET, chunkSize);
        b.putInt(STRIDE_OFFSET, stride);
        b.putInt(SLOTS_OFFSET, BucketLayout.SLOTS);
        b.putLong(BUCKET_COUNT_OFFSET, bucketCount);
        b.putLong(BUCKETS_CELL_OFFSET, bucketsCell);
        b.putLong(OLD_BUCKET_COUNT_OFFSET, oldBucketCount);
        b.putLong(OLD_BUCKETS_CELL_OFFSET, oldBucketsCell);
        b.putLong(EVACUATED_OFFSET, evacuated);
        b.putLong(OVERFLOW_PAGES_OFFSET, overflowPages);
        b.putLong(OLD_OVERFLOW_PAGES_OFFSET, oldOverflowPages);
        b.putLong(FREE_ROOT_OFFSET, freeRoot + 1);
        b.putLong(FREE_CELLS_OFFSET, freeCells);
        b.putLong(ALLOCATED_CELLS_OFFSET, allocatedCells);
        for (int i = 0; i < RETIRED_SLOTS; i++) {
            int at = retiredOffset(i);
            b.putLong(at, retiredCell[i] + 1);
            b.putLong(at + 8, retiredBuckets[i]);
            b.putLong(at + 16, retiredOverflow[i]);
        }
        b.putLong(JOURNAL_CELL_OFFSET, journalCell);
        b.putLong(DOUBLINGS_OFFSET, doublings);
        b.putLong(SAME_SIZE_GROWTHS_OFFSET, sameSizeGrowths);
        b.putLong(COUNT_OFFSET, countSource != null ? countSource.getAsLong() : count);
        b.putLong(FLAGS_OFFSET, flags);
        b.putLong(RECORD_CELLS_OFFSET, recordCells);
        crc.reset();
        crc.update(b.array(), 0, CRC_OFFSET);
        b.putInt(CRC_OFFSET, (int) crc.getValue());
    }

    /**
     * Writes a new generation into copy A, then copy B. Header updates are made by one writer at a time
     * (under the space monitor or the geometry lock held exclusively); the monitor of this object also
     * guards the reused copy.
     */
    synchronized void store(MemorySegment page) {
        generation++;
        encodeInto(storeBuffer, storeCrc);
        write(page, storeCopy);
    }

    /**
     * Advances the generation and encodes the copy that {@link #write} then stores, for a caller that
     * must know the new copy's checksum before it is written (the chain record names it).
     */
    synchronized byte[] prepare() {
        generation++;
        encodeInto(preparedBuffer, preparedCrc);
        return preparedCopy;
    }

    /** The copy {@link #prepare} encodes into (one caller at a time: the header's writer, under the space monitor). */
    private final byte[] preparedCopy = new byte[COPY_SIZE];
    private final ByteBuffer preparedBuffer = ByteBuffer.wrap(preparedCopy).order(ByteOrder.LITTLE_ENDIAN);
    private final CRC32C preparedCrc = new CRC32C();

    /** Writes a copy made by {@link #prepare()} into copy A, then copy B. */
    void write(MemorySegment page, byte[] bytes) {
        MemorySegment.copy(bytes, 0, page, ValueLayout.JAVA_BYTE, COPY_A, COPY_SIZE);
        MemorySegment.copy(bytes, 0, page, ValueLayout.JAVA_BYTE, COPY_B, COPY_SIZE);
        written = true;
        crc = crcOf(bytes);
    }

    /** The CRC32C stored in an encoded copy. */
    static int crcOf(byte[] copy) {
        return (int) INT_LE.get(copy, CRC_OFFSET);
    }

    /**
     * One header copy as read from the page: its fields (parsed whenever the magic bytes match, even
     * when the checksum does not, so a salvage can judge them) and why it is unusable.
     *
     * @param fields      the parsed fields, or null when the magic bytes do not match
     * @param checksumOk  whether the CRC32C matches
     * @param fieldProblem why the fields are impossible (reserved bytes, slots, geometry), or null
     */
    record Copy(Header fields, boolean checksumOk, String fieldProblem) {
        boolean magicOk() {
            return fields != null;
        }

        boolean valid() {
            return magicOk() && checksumOk && fieldProblem == null;
        }

        /** Why the copy is unusable, or null when it is valid. */
        String problem() {
            if (!magicOk()) {
                return "magic bytes do not match";
            }
            if (!checksumOk) {
                return fieldProblem == null ? "checksum mismatch" : "checksum mismatch, and " + fieldProblem;
            }
            return fieldProblem;
        }
    }

    /** Reads copy A ({@code index} 0) or copy B (1) from the header page. */
    static Copy readCopy(MemorySegment page, int index) {
        byte[] bytes = new byte[COPY_SIZE];
        MemorySegment.copy(page, ValueLayout.JAVA_BYTE, index == 0 ? COPY_A : COPY_B, bytes, 0, COPY_SIZE);
        return decode(bytes);
    }

    private static Copy decode(byte[] bytes) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes[i] != MAGIC[i]) {
                return new Copy(null, false, null);
            }
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, CRC_OFFSET);
        boolean checksumOk = (int) crc.getValue() == b.getInt(CRC_OFFSET);
        Header h = new Header();
        h.crc = crcOf(bytes);
        h.readVersion = b.getInt(READ_VERSION_OFFSET);
        h.writeVersion = b.getInt(WRITE_VERSION_OFFSET);
        h.generation = b.getLong(GENERATION_OFFSET);
        h.keyWidth = b.getInt(KEY_WIDTH_OFFSET);
        h.valueWidth = b.getInt(VALUE_WIDTH_OFFSET);
        h.seed = b.getLong(SEED_OFFSET);
        h.chunkSize = b.getLong(CHUNK_SIZE_OFFSET);
        h.stride = b.getInt(STRIDE_OFFSET);
        int slots = b.getInt(SLOTS_OFFSET);
        h.bucketCount = b.getLong(BUCKET_COUNT_OFFSET);
        h.bucketsCell = b.getLong(BUCKETS_CELL_OFFSET);
        h.oldBucketCount = b.getLong(OLD_BUCKET_COUNT_OFFSET);
        h.oldBucketsCell = b.getLong(OLD_BUCKETS_CELL_OFFSET);
        h.evacuated = b.getLong(EVACUATED_OFFSET);
        h.overflowPages = b.getLong(OVERFLOW_PAGES_OFFSET);
        h.oldOverflowPages = b.getLong(OLD_OVERFLOW_PAGES_OFFSET);
        h.freeRoot = b.getLong(FREE_ROOT_OFFSET) - 1;
        h.freeCells = b.getLong(FREE_CELLS_OFFSET);
        h.allocatedCells = b.getLong(ALLOCATED_CELLS_OFFSET);
        for (int i = 0; i < RETIRED_SLOTS; i++) {
            int at = retiredOffset(i);
            h.retiredCell[i] = b.getLong(at) - 1;
            h.retiredBuckets[i] = b.getLong(at + 8);
            h.retiredOverflow[i] = b.getLong(at + 16);
        }
        h.journalCell = b.getLong(JOURNAL_CELL_OFFSET);
        h.doublings = b.getLong(DOUBLINGS_OFFSET);
        h.sameSizeGrowths = b.getLong(SAME_SIZE_GROWTHS_OFFSET);
        h.count = b.getLong(COUNT_OFFSET);
        h.flags = b.getLong(FLAGS_OFFSET);
        h.recordCells = b.getLong(RECORD_CELLS_OFFSET);
        return new Copy(h, checksumOk, h.readVersion > READ_VERSION
                ? null // the version is checked by the caller with a precise message
                : fieldProblem(bytes, slots, h));
    }

    private static String fieldProblem(byte[] bytes, int slots, Header h) {
        for (int i = RESERVED_OFFSET; i < CRC_OFFSET; i++) {
            if (bytes[i] != 0) {
                return "reserved byte at " + i + " is not zero";
            }
        }
        if (slots != BucketLayout.SLOTS) {
            return "slots per bucket is " + slots + ", expected " + BucketLayout.SLOTS;
        }
        if ((h.flags & ~FLAG_VARIABLE) != 0 || (h.variable() && h.readVersion < VARIABLE_FORMAT_VERSION)) {
            return "flags " + h.flags + " are unknown or need read version " + VARIABLE_FORMAT_VERSION;
        }
        return h.geometryProblem();
    }

    /** Offset of retired entry {@code i}: the oldest in the fixed fields, the others after the count. */
    static int retiredOffset(int i) {
        return i == 0 ? RETIRED_CELL_OFFSET : MORE_RETIRED_OFFSET + (i - 1) * RETIRED_ENTRY_SIZE;
    }

    private static long[] filled(int n, long value) {
        long[] a = new long[n];
        java.util.Arrays.fill(a, value);
        return a;
    }

    private boolean retiredOutsideFile() {
        for (int i = 0; i < RETIRED_SLOTS; i++) {
            if (retiredCell[i] < BucketLayout.NONE
                    || (retiredCell[i] != BucketLayout.NONE && !cellsAllocated(retiredCell[i], retiredBuckets[i]))) {
                return true;
            }
        }
        return false;
    }

    private boolean cellCount(long n) {
        return n >= 0 && n <= allocatedCells;
    }

    private boolean retiredCountsInFile() {
        for (int i = 0; i < RETIRED_SLOTS; i++) {
            if (retiredCell[i] != BucketLayout.NONE && !cellCount(retiredOverflow[i])) {
                return false;
            }
        }
        return true;
    }

    /** Cells {@code first .. first + n - 1} (n >= 1) all lie below allocated_cells; no sum that can overflow. */
    private boolean cellsAllocated(long first, long n) {
        return first >= 0 && n >= 1 && n <= allocatedCells - first;
    }

    /**
     * Why the widths, the stride and the chunk size cannot be used, or null. The stride is computed from
     * the widths, so a damaged width is caught here even in a copy whose checksum failed.
     */
    String widthsProblem() {
        if (keyWidth < 0 || keyWidth > Options.MAX_KEY_WIDTH || valueWidth < 0 || valueWidth > Options.MAX_VALUE_WIDTH) {
            return "key width " + keyWidth + " or value width " + valueWidth + " out of range";
        }
        if (variable() && (keyWidth > Options.MAX_INLINE_KEY
                || keyWidth + BucketLayout.lengthBytes(valueWidth) + valueWidth < BucketLayout.OUT_OF_LINE_SIZE)) {
            return "inline key width " + keyWidth + " and value width " + valueWidth + " cannot hold an out-of-line entry";
        }
        if (stride != BucketLayout.strideFor(keyWidth, valueWidth)) {
            return "bucket stride " + stride + " does not match the widths";
        }
        if (chunkSize < stride || chunkSize % 4096 != 0) {
            return "chunk size " + chunkSize + " is not a multiple of 4096 holding at least one bucket";
        }
        return null;
    }

    private String geometryProblem() {
        String widths = widthsProblem();
        if (widths != null) {
            return widths;
        }
        // while growing, at least old bucket `evacuated` is still to do: the growth ends when the mark reaches the end
        if (bucketCount < 1 || oldBucketCount < 0 || evacuated < 0
                || (oldBucketCount == 0 ? evacuated != 0 : evacuated >= oldBucketCount)) {
            return "bucket counts out of range (buckets " + bucketCount + ", old " + oldBucketCount
                    + ", evacuated " + evacuated + ")";
        }
        if (oldBucketCount != 0 && (bucketCount % oldBucketCount != 0 || Long.bitCount(bucketCount / oldBucketCount) != 1
                || (readVersion < 2 && bucketCount / oldBucketCount > 2))) {
            return "old bucket count " + oldBucketCount + " is neither the bucket count nor " + (readVersion < 2
                    ? "half of it" : "the bucket count divided by a power of two");
        }
        if (allocatedCells < 1 || !cellsAllocated(bucketsCell, bucketCount)
                || (oldBucketCount != 0 && !cellsAllocated(oldBucketsCell, oldBucketCount))
                || journalCell < 0 || journalCell >= allocatedCells
                || freeRoot < BucketLayout.NONE || freeRoot >= allocatedCells
                || retiredOutsideFile()) {
            return "a cell reference lies outside the " + allocatedCells + " allocated cells";
        }
        // counts of cells size the file's growth: none can exceed the cells there are
        if (!cellCount(freeCells) || !cellCount(overflowPages) || !cellCount(oldOverflowPages) || !retiredCountsInFile()
                || !cellCount(recordCells) || (!variable() && recordCells != 0)) {
            return "a count of free or overflow cells lies outside 0.." + allocatedCells;
        }
        return null;
    }

    /**
     * Reads the newest valid copy from the header page. Throws the right error for a foreign file,
     * a newer version, or two bad copies.
     */
    static Header load(MemorySegment page, Path path, boolean forWriting) {
        Copy da = readCopy(page, 0);
        Copy db = readCopy(page, 1);
        if (!da.magicOk() && !db.magicOk()) {
            throw HashIndexException.notHashIndex(path, "no hashidx magic bytes at offset 0 or 512");
        }
        Header best = newestValid(da, db);
        if (best == null) {
            throw HashIndexException.corrupt(path, 0, "both header copies are damaged (copy A: "
                    + da.problem() + "; copy B: " + db.problem() + ")");
        }
        if (best.readVersion > READ_VERSION) {
            throw HashIndexException.unsupportedVersion(path, best.readVersion, READ_VERSION, false);
        }
        if (forWriting && best.writeVersion > WRITE_VERSION) {
            throw HashIndexException.unsupportedVersion(path, best.writeVersion, WRITE_VERSION, true);
        }
        for (int i = LIVE_END; i < MappedFile.DATA_START; i++) {
            if (page.get(ValueLayout.JAVA_BYTE, i) != 0) {
                throw HashIndexException.corrupt(path, i, "reserved byte in the header page is not zero");
            }
        }
        return best;
    }

    /**
     * Reads the newest valid copy while a writer process may be rewriting the copies (a reader beside
     * it): a copy being written fails its checksum, and the writer writes copy A completely before copy
     * B, so trying again finds a whole one. Errors as {@link #load} once no try finds one.
     */
    static Header loadConsistent(MemorySegment page, Path path) {
        for (int attempt = 0; attempt < CONSISTENT_READ_ATTEMPTS; attempt++) {
            Header best = newestValid(readCopy(page, 0), readCopy(page, 1));
            if (best != null) {
                if (best.readVersion > READ_VERSION) {
                    throw HashIndexException.unsupportedVersion(path, best.readVersion, READ_VERSION, false);
                }
                return best;
            }
            Thread.onSpinWait();
            if (attempt % 64 == 63) {
                Thread.yield();
            }
        }
        return load(page, path, false);
    }

    private static final int CONSISTENT_READ_ATTEMPTS = 100_000;

    /**
     * The generation word of copy A as it is now: changes first on every header update, so a reader
     * process compares it with the generation it last read to learn that it should read the header again.
     */
    static long generationWord(MemorySegment page) {
        return (long) LIVE_WORD.getAcquire(page, (long) COPY_A + GENERATION_OFFSET);
    }

    /** Takes every field of {@code o}, a copy read again by a reader process (see {@link Table#refresh}). */
    void adopt(Header o) {
        generation = o.generation;
        readVersion = o.readVersion;
        writeVersion = o.writeVersion;
        bucketCount = o.bucketCount;
        bucketsCell = o.bucketsCell;
        oldBucketCount = o.oldBucketCount;
        oldBucketsCell = o.oldBucketsCell;
        evacuated = o.evacuated;
        overflowPages = o.overflowPages;
        oldOverflowPages = o.oldOverflowPages;
        freeRoot = o.freeRoot;
        freeCells = o.freeCells;
        allocatedCells = Math.max(allocatedCells, o.allocatedCells);
        System.arraycopy(o.retiredCell, 0, retiredCell, 0, RETIRED_SLOTS);
        System.arraycopy(o.retiredBuckets, 0, retiredBuckets, 0, RETIRED_SLOTS);
        System.arraycopy(o.retiredOverflow, 0, retiredOverflow, 0, RETIRED_SLOTS);
        journalCell = o.journalCell;
        doublings = o.doublings;
        sameSizeGrowths = o.sameSizeGrowths;
        count = o.count;
        flags = o.flags;
        recordCells = o.recordCells;
        openedA = o.openedA;
        openedB = o.openedB;
        written = o.written;
        crc = o.crc;
    }

    /**
     * The valid copy with the larger generation, with both copies' states recorded in it for
     * inspect; null when neither copy is valid.
     */
    static Header newestValid(Copy a, Copy b) {
        Header best = a.valid() ? a.fields() : null;
        if (b.valid() && (best == null || b.fields().generation > best.generation)) {
            best = b.fields();
        }
        if (best != null) {
            best.openedA = new CopyState(a.valid() ? a.fields().generation : -1, a.valid());
            best.openedB = new CopyState(b.valid() ? b.fields().generation : -1, b.valid());
        }
        return best;
    }

    /**
     * The entry count after replaying an intent record ({@link #INTENT_INSERT} or {@link #INTENT_REMOVE}
     * change it; an overwrite does not): {@code slotLive} is whether the intent's slot holds a live
     * entry now (FORMAT.md section 6, "Open read-write").
     */
    static long countAfterIntent(long op, long countBefore, boolean slotLive) {
        if (op == INTENT_INSERT) {
            return slotLive ? countBefore + 1 : countBefore;
        }
        if (op == INTENT_REMOVE) {
            return slotLive ? countBefore : countBefore - 1;
        }
        return countBefore;
    }

    // ---- live area ----

    static long liveCount(MemorySegment page) {
        return page.get(LONG, LIVE_COUNT_OFFSET);
    }

    static void setLiveCount(MemorySegment page, long count) {
        page.set(LONG, LIVE_COUNT_OFFSET, count);
    }

    static long intentOp(MemorySegment page) {
        return page.get(LONG, INTENT_OP_OFFSET);
    }

    static long intentSlot(MemorySegment page) {
        return page.get(LONG, INTENT_SLOT_OFFSET);
    }

    static long intentCountBefore(MemorySegment page) {
        return page.get(LONG, INTENT_COUNT_BEFORE_OFFSET);
    }

    /** Records the operation about to change {@code slotRef}; the op word is written last. */
    static void beginIntent(MemorySegment page, long op, long slotRef, long countBefore) {
        page.set(LONG, INTENT_SLOT_OFFSET, slotRef);
        page.set(LONG, INTENT_COUNT_BEFORE_OFFSET, countBefore);
        page.set(LONG, INTENT_OP_OFFSET, op);
    }

    static void endIntent(MemorySegment page) {
        page.set(LONG, INTENT_OP_OFFSET, INTENT_NONE);
    }

    // ---- writer lanes ----

    static long laneOffset(int lane) {
        return LANES_OFFSET + (long) lane * LANE_SIZE;
    }

    static long laneOp(MemorySegment page, int lane) {
        return page.get(LONG, laneOffset(lane) + LANE_OP);
    }

    static long laneSlot(MemorySegment page, int lane) {
        return page.get(LONG, laneOffset(lane) + LANE_SLOT);
    }

    static long laneCountBefore(MemorySegment page, int lane) {
        return page.get(LONG, laneOffset(lane) + LANE_COUNT_BEFORE);
    }

    /** The lane's share of the entry count (signed: a lane may remove more than it inserted). */
    static long laneCount(MemorySegment page, int lane) {
        return (long) LIVE_WORD.getAcquire(page, laneOffset(lane) + LANE_COUNT);
    }

    static void setLaneCount(MemorySegment page, int lane, long count) {
        LIVE_WORD.setRelease(page, laneOffset(lane) + LANE_COUNT, count);
    }

    /** Records the operation about to change {@code slotRef} in a lane; the op word is written last. */
    static void beginLaneIntent(MemorySegment page, int lane, long op, long slotRef, long laneCountBefore) {
        long at = laneOffset(lane);
        page.set(LONG, at + LANE_SLOT, slotRef);
        page.set(LONG, at + LANE_COUNT_BEFORE, laneCountBefore);
        java.lang.invoke.VarHandle.storeStoreFence();
        page.set(LONG, at + LANE_OP, op);
        java.lang.invoke.VarHandle.storeStoreFence();
    }

    static void endLaneIntent(MemorySegment page, int lane) {
        java.lang.invoke.VarHandle.storeStoreFence();
        page.set(LONG, laneOffset(lane) + LANE_OP, INTENT_NONE);
    }

    /** Primary bucket {@code k} (0..2) that the lane's writer may have made odd, or NONE. */
    static long laneBucket(MemorySegment page, int lane, int k) {
        return page.get(LONG, laneOffset(lane) + LANE_BUCKETS + 8L * k) - 1;
    }

    /** Names the primary buckets (NONE for none) a writer is about to make odd; before it touches them. */
    static void nameLaneBuckets(MemorySegment page, int lane, long a, long b, long c) {
        long at = laneOffset(lane) + LANE_BUCKETS;
        page.set(LONG, at, a + 1);
        page.set(LONG, at + 8, b + 1);
        page.set(LONG, at + 16, c + 1);
        java.lang.invoke.VarHandle.storeStoreFence();
    }

    /** The entry count: the base count plus every lane's share. */
    static long totalCount(MemorySegment page) {
        long n = liveCount(page);
        for (int lane = 0; lane < LANES; lane++) {
            n += laneCount(page, lane);
        }
        return n;
    }

    /** The reuse epoch, read with acquire semantics (see {@link #EPOCH_OFFSET}). */
    static long epoch(MemorySegment page) {
        return (long) LIVE_WORD.getAcquire(page, (long) EPOCH_OFFSET);
    }

    /** The reuse epoch re-read at the end of an optimistic read: every earlier read stays before it. */
    static long epochAfterReads(MemorySegment page) {
        java.lang.invoke.VarHandle.acquireFence();
        return (long) LIVE_WORD.getAcquire(page, (long) EPOCH_OFFSET);
    }

    /** Advances the reuse epoch (writers only, one at a time), fenced on both sides. */
    static void advanceEpoch(MemorySegment page) {
        java.lang.invoke.VarHandle.fullFence();
        LIVE_WORD.setRelease(page, (long) EPOCH_OFFSET, (long) LIVE_WORD.get(page, (long) EPOCH_OFFSET) + 1);
        java.lang.invoke.VarHandle.fullFence();
    }

    /**
     * The pending record of a lane (the lane's last word; variable-length files): the first cell of the
     * record being written for that lane's write in flight, or NONE. Recovery frees it unless the slot
     * of the lane's intent names it (FORMAT.md section 4).
     */
    static long pendingRecord(MemorySegment page, int lane) {
        return page.get(LONG, laneOffset(lane) + LANE_PENDING_RECORD) - 1;
    }

    static void setPendingRecord(MemorySegment page, int lane, long firstCell) {
        page.set(LONG, laneOffset(lane) + LANE_PENDING_RECORD, firstCell + 1);
    }
}
