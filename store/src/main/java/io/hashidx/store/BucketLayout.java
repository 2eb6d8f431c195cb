package io.hashidx.store;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The bytes of one bucket or overflow page ("cell"), and the only class that does offset
 * arithmetic on them. A cell is {@link #stride} bytes, a multiple of 64:
 *
 * <pre>
 *  offset 0            8               16              24
 *  +------------------+---------------+---------------+---------------------------------+-----+
 *  | tophash[0..7]    | overflow u64  | reserved u64  | slot 0 | slot 1 | ... | slot 7  | pad |
 *  +------------------+---------------+---------------+---------------------------------+-----+
 *  slot: key length (1, 2 or 4 bytes) | key bytes (key width) | value length (1, 2 or 4) | value bytes (value width)
 * </pre>
 *
 * Overflow holds the next page's cell number plus one (0 = end of chain). The word at offset 16 is the
 * <em>bucket version</em> in a primary bucket of the current or the old array (a sequence lock over the
 * whole chain: odd while a writer is inside, see {@link Table}) and zero in an overflow page. A cell on the
 * free list reuses that word for the next free run and the first slot's first 8 bytes for the run length;
 * its overflow word keeps pointing at the rest of a freed chain, which the allocator frees page by page.
 * A lock-free reader can therefore meet a free-run link where it expected a version, when it reads a
 * bucket of an array that has left the structure; the reuse epoch ({@link Table}) is what tells it so.
 *
 * <p>The journal cell stages an overwrite's new slot image in slot 0, and keeps the <em>chain record</em>
 * in its first three words: the one change of an overflow chain in flight, so that opening after a
 * crash can finish or undo it (FORMAT.md section 3, "Journal cell"):
 * <pre>
 *  offset 0   op u8 (1 link a new page, 2 unlink a chain; 0 none), then the header copy it goes with:
 *             the low 24 bits of its generation, and its crc32c in the high 32 bits
 *  offset 8   page + 1: the page being linked, or the first page of the chain being unlinked
 *  offset 16  parent + 1: the cell whose overflow word changes
 * </pre>
 *
 * <p>In a variable-length file (format version 3) the widths are inline widths. An entry whose key or
 * value is longer lives out of line: its slot's key length field holds all ones ({@link #OUT_OF_LINE_MARK}),
 * and the bytes after it hold the reference below; key and value bytes follow each other in a
 * <em>record</em>, a chain of cells linked through their overflow words, each holding
 * {@code stride - 16} bytes of it from offset 16 (its tophash and reserved words stay zero):
 * <pre>
 *  slot: 0xFF (key length field) | record: first cell + 1 u64 | hash u64 | key length u32 | value length u32 | unused
 * </pre>
 * The slot keeps the key's whole 64-bit hash, so a lookup reads the record only of a key with the same
 * hash, and growth computes an entry's new bucket and moves the slot without reading the record.
 *
 * <p>Cells are numbered from 0; cell c lives in mapping chunk {@code c / cellsPerChunk} at
 * {@code (c % cellsPerChunk) * stride}, so no cell crosses a chunk and every aligned field stays aligned.
 */
final class BucketLayout {
    static final int SLOTS = 8;

    // Reserved tophash values (as in Go's map): everything below MIN_TOPHASH is a mark.
    static final int EMPTY_REST = 0;   // this slot and every later slot in the chain are empty
    static final int EMPTY_ONE = 1;    // this slot is empty
    static final int EVACUATED_X = 2;  // entry moved to the lower half of its destinations (2b in a doubling; b in a same-size growth)
    static final int EVACUATED_Y = 3;  // entry moved to the upper half of its destinations (2b+1 in a doubling)
    static final int EVACUATED_EMPTY = 4; // slot was empty when its bucket was evacuated
    static final int MIN_TOPHASH = 5;

    static final int TOPHASH_OFFSET = 0;
    static final int OVERFLOW_OFFSET = TOPHASH_OFFSET + SLOTS;
    static final int RESERVED_OFFSET = OVERFLOW_OFFSET + 8;
    /** The bucket version of a primary bucket: the reserved word (FORMAT.md section 3). */
    static final int VERSION_OFFSET = RESERVED_OFFSET;
    static final int SLOTS_OFFSET = RESERVED_OFFSET + 8;
    static final int FREE_RUN_NEXT_OFFSET = RESERVED_OFFSET;
    static final int FREE_RUN_LENGTH_OFFSET = SLOTS_OFFSET;
    static final int ALIGNMENT = 64;
    // the chain record in the journal cell (words that a bucket uses for tophash, overflow and reserved)
    static final int RECORD_OP_OFFSET = 0;
    static final int RECORD_PAGE_OFFSET = RECORD_OP_OFFSET + 8;
    static final int RECORD_PARENT_OFFSET = RECORD_PAGE_OFFSET + 8;
    static final int RECORD_LINK = 1;
    static final int RECORD_UNLINK = 2;
    /** Chain record op: a cell taken for a record, linked after {@code parent} (NONE: the pending record's first cell). */
    static final int RECORD_TAKE = 3;
    /** Chain record op: the record starting at {@code page} is being freed by the operation in flight. */
    static final int RECORD_FREE = 4;
    /** Bit 63 of op 3's stored parent word: the cell is a record's first cell, named by the lane in its low bits. */
    private static final long PENDING_PARENT_BASE = Long.MIN_VALUE;

    // an out-of-line slot: the reference after the key length field
    static final int OOL_RECORD_OFFSET = 0;
    static final int OOL_HASH_OFFSET = OOL_RECORD_OFFSET + 8;
    static final int OOL_KEY_LENGTH_OFFSET = OOL_HASH_OFFSET + 8;
    static final int OOL_VALUE_LENGTH_OFFSET = OOL_KEY_LENGTH_OFFSET + 4;
    /** Bytes of an out-of-line reference, after the key length field. */
    static final int OUT_OF_LINE_SIZE = OOL_VALUE_LENGTH_OFFSET + 4;
    /** The key length byte of an out-of-line slot (the inline key width is at most 254). */
    static final int OUT_OF_LINE_MARK = 0xFF;
    // a record cell: the next cell of the record in the overflow word, data from here to the cell's end
    static final int RECORD_DATA_OFFSET = RESERVED_OFFSET;

    static final long NONE = -1;

    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG_U = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort SHORT_U = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_U = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** The bucket version word with acquire/release access: coordinates (segment, byte offset). */
    private static final VarHandle VERSION = LONG.varHandle();
    private static final VarHandle ARRAY_LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    final int keyWidth;
    final int valueWidth;
    /** Whether this is a variable-length file's layout (out-of-line slots and record cells). */
    final boolean variable;
    /** Record bytes one record cell holds. */
    final int recordCapacity;
    final int keyLengthBytes;
    final int valueLengthBytes;
    final int slotSize;
    final int stride;
    final long cellsPerChunk;
    /** {@link #divisorMagic} of {@link #cellsPerChunk}. */
    private final long chunkDivisor;
    private final long chunkSize;
    private final int keyOffsetInSlot;
    private final int valueLengthOffsetInSlot;
    private final int valueOffsetInSlot;
    private final MappedFile file;
    /** The header whose allocated cells bound every overflow link; null while a file is being laid out. */
    private final Header h;

    BucketLayout(int keyWidth, int valueWidth, MappedFile file) {
        this(keyWidth, valueWidth, file, null);
    }

    /**
     * A layout that checks no link against a header, for reading a damaged file ({@link Salvage}):
     * {@code variable} says whether slots may be out of line.
     */
    BucketLayout(int keyWidth, int valueWidth, MappedFile file, boolean variable) {
        this(keyWidth, valueWidth, file.chunkSize(), file, null, variable);
    }

    BucketLayout(int keyWidth, int valueWidth, MappedFile file, Header h) {
        this(keyWidth, valueWidth, file.chunkSize(), file, h);
    }

    /**
     * A layout with no mapped file behind it, for encoding whole cells into a buffer that is then
     * written through the channel ({@link BulkWriter}); only the {@code encode*} methods and the
     * offset arithmetic may be used.
     */
    BucketLayout(int keyWidth, int valueWidth, long chunkSize) {
        this(keyWidth, valueWidth, chunkSize, null, null);
    }

    /** A layout for encoding cells into buffers (the bulk writer), of a variable-length file when {@code variable}. */
    BucketLayout(int keyWidth, int valueWidth, long chunkSize, boolean variable) {
        this(keyWidth, valueWidth, chunkSize, null, null, variable);
    }

    private BucketLayout(int keyWidth, int valueWidth, long chunkSize, MappedFile file, Header h) {
        this(keyWidth, valueWidth, chunkSize, file, h, h != null && h.variable());
    }

    private BucketLayout(int keyWidth, int valueWidth, long chunkSize, MappedFile file, Header h, boolean variable) {
        this.keyWidth = keyWidth;
        this.valueWidth = valueWidth;
        this.keyLengthBytes = lengthBytes(keyWidth);
        this.valueLengthBytes = lengthBytes(valueWidth);
        this.keyOffsetInSlot = keyLengthBytes;
        this.valueLengthOffsetInSlot = keyOffsetInSlot + keyWidth;
        this.valueOffsetInSlot = valueLengthOffsetInSlot + valueLengthBytes;
        this.slotSize = valueOffsetInSlot + valueWidth;
        this.stride = strideFor(keyWidth, valueWidth);
        this.variable = variable;
        this.recordCapacity = stride - RECORD_DATA_OFFSET;
        this.file = file;
        this.h = h;
        this.chunkSize = chunkSize;
        this.cellsPerChunk = chunkSize / stride;
        this.chunkDivisor = divisorMagic(cellsPerChunk);
    }

    /** Bytes used to store a length up to {@code width}: 1, 2 or 4. */
    static int lengthBytes(int width) {
        return width < 256 ? 1 : width < 65_536 ? 2 : 4;
    }

    static int strideFor(int keyWidth, int valueWidth) {
        long slot = lengthBytes(keyWidth) + (long) keyWidth + lengthBytes(valueWidth) + valueWidth;
        long raw = SLOTS_OFFSET + SLOTS * slot;
        return (int) ((raw + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
    }

    /** File offset of the first byte of cell {@code cell}. */
    long cellOffset(long cell) {
        long chunk = cell / cellsPerChunk;
        return MappedFile.DATA_START + chunk * chunkSize + (cell - chunk * cellsPerChunk) * stride;
    }

    /** File offset of the first byte (the key length) of a slot. */
    long slotOffset(long cell, int slot) {
        return cellOffset(cell) + SLOTS_OFFSET + (long) slot * slotSize;
    }

    /** File size needed to hold cells 0..cells-1 (the end of the last one). */
    long endOfCells(long cells) {
        return endOfCells(cells, stride, chunkSize);
    }

    /**
     * File size needed to hold cells 0..cells-1 of {@code stride} bytes mapped in chunks of
     * {@code chunkSize} bytes (a cell never straddles a chunk); the one formula for a file's size.
     */
    static long endOfCells(long cells, int stride, long chunkSize) {
        if (cells == 0) {
            return MappedFile.DATA_START;
        }
        long cellsPerChunk = chunkSize / stride;
        long last = cells - 1;
        long chunk = last / cellsPerChunk;
        return MappedFile.DATA_START + chunk * chunkSize + (last - chunk * cellsPerChunk) * stride + stride;
    }

    /**
     * How many whole cells a file of {@code size} bytes holds (cells are never split across chunks):
     * the inverse of {@link #endOfCells(long)}.
     */
    long cellsWithin(long size) {
        if (size <= MappedFile.DATA_START) {
            return 0;
        }
        long bytes = size - MappedFile.DATA_START;
        long chunkSize = file.chunkSize();
        return bytes / chunkSize * cellsPerChunk + Math.min(cellsPerChunk, bytes % chunkSize / stride);
    }

    private MemorySegment seg(long cell) {
        return file.chunk((int) chunkOf(cell));
    }

    private long base(long cell) {
        return (cell - chunkOf(cell) * cellsPerChunk) * stride;
    }

    /** {@code cell / cellsPerChunk}: every access to a cell computes it, so without a division instruction. */
    private long chunkOf(long cell) {
        return divide(cell, cellsPerChunk, chunkDivisor);
    }

    /**
     * The multiplier that divides by {@code d} with {@link #divide}: {@code ceil(2^64 / d)} for
     * {@code 2 <= d < 2^32}; 0 otherwise, and {@link #divide} then divides by {@code d} directly.
     */
    static long divisorMagic(long d) {
        return d < 2 || d >= (1L << 32) ? 0 : Long.divideUnsigned(-1L, d) + 1;
    }

    /**
     * {@code n / d} for {@code n >= 0} and {@code 0 < d < 2^32}, with {@code magic = divisorMagic(d)}: a
     * multiplication by the rounded-up reciprocal, exact for every {@code n < 2^32} (Lemire, Kaser and
     * Kurz, "Faster remainder by direct computation", 2019: with 64 fractional bits, 32-bit numerators and
     * divisors lose nothing); larger {@code n} divide directly.
     */
    static long divide(long n, long d, long magic) {
        return (n >>> 32) == 0 && magic != 0 ? Math.unsignedMultiplyHigh(n, magic) : n / d;
    }

    private long slotBase(long cell, int slot) {
        return base(cell) + SLOTS_OFFSET + (long) slot * slotSize;
    }

    // ---- tophash and links ----

    int tophash(long cell, int slot) {
        return seg(cell).get(ValueLayout.JAVA_BYTE, base(cell) + TOPHASH_OFFSET + slot) & 0xFF;
    }

    void setTophash(long cell, int slot, int value) {
        seg(cell).set(ValueLayout.JAVA_BYTE, base(cell) + TOPHASH_OFFSET + slot, (byte) value);
    }

    /**
     * The next page of the chain, or NONE. Every chain walk reads links here, so a damaged link that
     * names a cell outside the allocated cells is reported here (one unsigned compare: the stored
     * value is the cell plus one, 0 for none).
     */
    long overflow(long cell) {
        long stored = linkWord(cell);
        if (h != null && Long.compareUnsigned(stored, h.allocatedCells) > 0) {
            throw HashIndexException.corrupt(file.path(), cellOffset(cell) + OVERFLOW_OFFSET, "overflow link of cell "
                    + cell + " names cell " + (stored - 1) + ", outside the " + h.allocatedCells + " allocated cells");
        }
        return stored - 1;
    }

    /**
     * The page after {@code cell}, which is page number {@code pages} of its chain (the bucket is page
     * 0). A chain with more pages than there are cells runs in a cycle: reported instead of followed forever.
     */
    long overflow(long cell, long pages) {
        if (h != null && pages >= h.allocatedCells) {
            throw HashIndexException.corrupt(file.path(), cellOffset(cell) + OVERFLOW_OFFSET,
                    "the overflow chain through cell " + cell + " is a cycle (longer than the "
                            + h.allocatedCells + " allocated cells)");
        }
        return overflow(cell);
    }

    /**
     * The overflow link of {@code cell} as stored, not checked against the file: for the checker and
     * the inspector, which report a bad link instead of failing on it.
     */
    long overflowUnchecked(long cell) {
        return linkWord(cell) - 1;
    }

    private long linkWord(long cell) {
        return seg(cell).get(LONG, base(cell) + OVERFLOW_OFFSET);
    }

    void setOverflow(long cell, long next) {
        seg(cell).set(LONG, base(cell) + OVERFLOW_OFFSET, next + 1);
    }

    // ---- bucket versions (a sequence lock per primary bucket, covering its whole chain) ----

    /** The version of primary bucket {@code cell}, read with acquire semantics (later reads stay after it). */
    long version(long cell) {
        return (long) VERSION.getAcquire(seg(cell), base(cell) + VERSION_OFFSET);
    }

    /**
     * Re-reads the version at the end of an optimistic read: every read of the chain before it stays
     * before it (acquire fence), so an unchanged version proves that no writer changed the chain meanwhile.
     */
    long versionAfterReads(long cell) {
        VarHandle.acquireFence();
        return (long) VERSION.getAcquire(seg(cell), base(cell) + VERSION_OFFSET);
    }

    /**
     * A writer enters primary bucket {@code cell}: the version becomes odd before any store to the chain
     * (store-store fence after it). An odd version found here (a killed writer's, which recovery resets)
     * moves on by two, so it still changes. Returns the new, odd version.
     */
    long enterBucket(long cell) {
        MemorySegment s = seg(cell);
        long at = base(cell) + VERSION_OFFSET;
        long now = (long) VERSION.get(s, at);
        long v = now + ((now & 1) == 0 ? 1 : 2);
        VERSION.setOpaque(s, at, v);
        VarHandle.storeStoreFence();
        return v;
    }

    /** A writer leaves: the version becomes even, after every store to the chain (release). */
    void exitBucket(long cell) {
        MemorySegment s = seg(cell);
        long at = base(cell) + VERSION_OFFSET;
        VERSION.setRelease(s, at, (long) VERSION.get(s, at) + 1);
    }

    /** Sets a version outright: recovery makes an odd version left by a killed writer even again. */
    void setVersion(long cell, long version) {
        VERSION.setRelease(seg(cell), base(cell) + VERSION_OFFSET, version);
    }

    long reservedWord(long cell) {
        return seg(cell).get(LONG, base(cell) + RESERVED_OFFSET);
    }

    /**
     * Writes the reserved word. Only for cells that no lookup treats as a bucket in use: a retired
     * array's cells, which record the retired arrays the header has no room for (see {@link Space}).
     */
    void setReservedWord(long cell, long value) {
        seg(cell).set(LONG, base(cell) + RESERVED_OFFSET, value);
    }

    /** Resets the tophash bytes and the overflow link: the bucket becomes an empty, unchained bucket. */
    void clearBucketHead(long cell) {
        MemorySegment s = seg(cell);
        long b = base(cell);
        s.set(LONG, b + OVERFLOW_OFFSET, 0);
        s.set(LONG, b + TOPHASH_OFFSET, 0);
    }

    /** Zeroes a whole cell, eight bytes at a time (no slice: a put that links a page allocates nothing). */
    void zeroCell(long cell) {
        MemorySegment s = seg(cell);
        long b = base(cell);
        for (long i = 0; i < stride; i += Long.BYTES) {
            s.set(LONG, b + i, 0);
        }
    }

    // ---- free runs ----

    long freeRunNext(long cell) {
        return seg(cell).get(LONG, base(cell) + FREE_RUN_NEXT_OFFSET) - 1;
    }

    long freeRunLength(long cell) {
        return seg(cell).get(LONG_U, base(cell) + FREE_RUN_LENGTH_OFFSET);
    }

    void setFreeRun(long cell, long next, long length) {
        MemorySegment s = seg(cell);
        long b = base(cell);
        s.set(LONG_U, b + FREE_RUN_LENGTH_OFFSET, length);
        s.set(LONG, b + FREE_RUN_NEXT_OFFSET, next + 1);
    }

    // ---- the chain record (journal cell only) ----

    /**
     * Records a chain change about to happen: the op word goes to zero first and is written last, so a
     * crash in between leaves no record rather than a mix of two.
     */
    void writeChainRecord(long journal, int op, long headerTag, long page, long parent) {
        MemorySegment s = seg(journal);
        long b = base(journal);
        s.set(LONG, b + RECORD_OP_OFFSET, 0);
        s.set(LONG, b + RECORD_PAGE_OFFSET, page + 1);
        s.set(LONG, b + RECORD_PARENT_OFFSET, parent + 1);
        VarHandle.storeStoreFence();
        s.set(LONG, b + RECORD_OP_OFFSET, headerTag | op);
    }

    /**
     * Names one header copy in a chain record: its CRC32C in the high 32 bits and the low 24 bits of its
     * generation above the op byte. A record applies only while the header in effect is that copy.
     */
    static long headerTag(long generation, int crc) {
        return ((long) crc << 32) | ((generation & 0xFF_FFFFL) << 8);
    }

    /** The record's op (0 when there is none). */
    int chainRecordOp(long journal) {
        return (int) (seg(journal).get(LONG, base(journal) + RECORD_OP_OFFSET) & 0xFF);
    }

    /** The header tag the record was written for (see {@link #headerTag}). */
    long chainRecordHeaderTag(long journal) {
        return seg(journal).get(LONG, base(journal) + RECORD_OP_OFFSET) & ~0xFFL;
    }

    long chainRecordPage(long journal) {
        return seg(journal).get(LONG, base(journal) + RECORD_PAGE_OFFSET) - 1;
    }

    long chainRecordParent(long journal) {
        return seg(journal).get(LONG, base(journal) + RECORD_PARENT_OFFSET) - 1;
    }

    /**
     * Op 3's parent for a record's first cell, which the pending record of {@code lane} names instead of
     * a link: stored as {@code 2^63 + lane} (the parent word holds the parent plus one).
     */
    static long pendingParent(int lane) {
        return PENDING_PARENT_BASE + lane - 1;
    }

    /** The lane of a parent made by {@link #pendingParent}, or -1 for any other parent. */
    static int laneOfPendingParent(long parent) {
        long lane = parent + 1 - PENDING_PARENT_BASE;
        return lane >= 0 && lane < Header.LANES ? (int) lane : -1;
    }

    void clearChainRecord(long journal) {
        seg(journal).set(LONG, base(journal) + RECORD_OP_OFFSET, 0);
    }

    // ---- slots ----

    private int readLength(MemorySegment s, long at, int bytes) {
        return switch (bytes) {
            case 1 -> s.get(ValueLayout.JAVA_BYTE, at) & 0xFF;
            case 2 -> s.get(SHORT_U, at) & 0xFFFF;
            default -> s.get(INT_U, at);
        };
    }

    private void writeLength(MemorySegment s, long at, int bytes, int length) {
        switch (bytes) {
            case 1 -> s.set(ValueLayout.JAVA_BYTE, at, (byte) length);
            case 2 -> s.set(SHORT_U, at, (short) length);
            default -> s.set(INT_U, at, length);
        }
    }

    int keyLength(long cell, int slot) {
        if (outOfLine(cell, slot)) {
            return seg(cell).get(INT_U, slotBase(cell, slot) + keyOffsetInSlot + OOL_KEY_LENGTH_OFFSET);
        }
        return readLength(seg(cell), slotBase(cell, slot), keyLengthBytes);
    }

    int valueLength(long cell, int slot) {
        if (outOfLine(cell, slot)) {
            return seg(cell).get(INT_U, slotBase(cell, slot) + keyOffsetInSlot + OOL_VALUE_LENGTH_OFFSET);
        }
        return readLength(seg(cell), slotBase(cell, slot) + valueLengthOffsetInSlot, valueLengthBytes);
    }

    // ---- out-of-line slots and records (variable-length files) ----

    /** Whether the slot of a variable-length file holds a reference to a record instead of key and value bytes. */
    boolean outOfLine(long cell, int slot) {
        return variable && (seg(cell).get(ValueLayout.JAVA_BYTE, slotBase(cell, slot)) & 0xFF) == OUT_OF_LINE_MARK;
    }

    /** Whether an entry of these lengths goes out of line in this layout. */
    boolean needsRecord(int keyLength, int valueLength) {
        return keyLength > keyWidth || valueLength > valueWidth;
    }

    /** The first cell of an out-of-line slot's record, as stored (checked by the record walk). */
    long recordOf(long cell, int slot) {
        return seg(cell).get(LONG_U, slotBase(cell, slot) + keyOffsetInSlot + OOL_RECORD_OFFSET) - 1;
    }

    /** The key's 64-bit hash kept in an out-of-line slot. */
    long storedHash(long cell, int slot) {
        return seg(cell).get(LONG_U, slotBase(cell, slot) + keyOffsetInSlot + OOL_HASH_OFFSET);
    }

    /** Writes an out-of-line reference into a slot (not its tophash). */
    void writeOutOfLineSlot(long cell, int slot, long record, long hash, int keyLength, int valueLength) {
        MemorySegment s = seg(cell);
        long at = slotBase(cell, slot);
        s.set(ValueLayout.JAVA_BYTE, at, (byte) OUT_OF_LINE_MARK);
        long ref = at + keyOffsetInSlot;
        s.set(LONG_U, ref + OOL_RECORD_OFFSET, record + 1);
        s.set(LONG_U, ref + OOL_HASH_OFFSET, hash);
        s.set(INT_U, ref + OOL_KEY_LENGTH_OFFSET, keyLength);
        s.set(INT_U, ref + OOL_VALUE_LENGTH_OFFSET, valueLength);
    }

    /** Record cells that hold {@code bytes} bytes of record data (at least one). */
    long recordCellsFor(long bytes) {
        return Math.max(1, (bytes + recordCapacity - 1) / recordCapacity);
    }

    /**
     * Copies {@code len} bytes of {@code src} from {@code srcAt} into record cell {@code cell} at
     * {@code offsetInCell} of its data: the caller writes a record cell by cell as it takes them.
     */
    void writeRecordCell(long cell, int offsetInCell, byte[] src, int srcAt, int len) {
        MemorySegment.copy(src, srcAt, seg(cell), ValueLayout.JAVA_BYTE, base(cell) + RECORD_DATA_OFFSET + offsetInCell, len);
    }

    /**
     * Reads {@code len} bytes of the record starting at {@code first} from record offset {@code from},
     * into {@code dst} at {@code at}; or, when {@code compare} is set, returns whether they equal
     * {@code dst} there (without writing). Walks the record's chain, which a damaged file may cut short.
     */
    private boolean recordBytes(long first, long from, byte[] dst, int at, int len, boolean compare) {
        long c = first;
        long pages = 0;
        if (c < 0 || (h != null && c >= h.allocatedCells)) {
            throw HashIndexException.corrupt(file.path(), 0, "a slot names record cell " + c + ", outside the "
                    + (h == null ? "file" : h.allocatedCells + " allocated cells"));
        }
        long skip = from / recordCapacity;
        int offset = (int) (from % recordCapacity);
        for (long i = 0; i < skip; i++) {
            c = nextRecordCell(c, ++pages);
        }
        int done = 0;
        while (done < len) {
            int n = Math.min(len - done, recordCapacity - offset);
            long src = base(c) + RECORD_DATA_OFFSET + offset;
            if (compare) {
                if (MemorySegment.mismatch(seg(c), src, src + n, MemorySegment.ofArray(dst), at + done, at + done + n) >= 0) {
                    return false;
                }
            } else {
                MemorySegment.copy(seg(c), ValueLayout.JAVA_BYTE, src, dst, at + done, n);
            }
            done += n;
            offset = 0;
            if (done < len) {
                c = nextRecordCell(c, ++pages);
            }
        }
        return true;
    }

    private long nextRecordCell(long cell, long pages) {
        long next = overflow(cell, pages);
        if (next == NONE) {
            throw HashIndexException.corrupt(file.path(), cellOffset(cell) + OVERFLOW_OFFSET,
                    "record cell " + cell + " ends its record before the slot's lengths say it does");
        }
        return next;
    }

    /** The cells of the record starting at {@code first}, in order (for freeing and checking). */
    long recordLength(long first) {
        long n = 0;
        for (long c = first; c != NONE; c = overflow(c, n)) {
            n++;
        }
        return n;
    }

    /** Copies an inline key into {@code dst} (at least keyWidth long) and returns its length. */
    int readKey(long cell, int slot, byte[] dst) {
        if (outOfLine(cell, slot)) {
            throw new IllegalStateException("readKey of an out-of-line slot");
        }
        MemorySegment s = seg(cell);
        long at = slotBase(cell, slot);
        int len = readLength(s, at, keyLengthBytes);
        checkStoredLength(len, keyWidth, cell, slot, "key");
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, at + keyOffsetInSlot, dst, 0, len);
        return len;
    }

    byte[] key(long cell, int slot) {
        if (outOfLine(cell, slot)) {
            byte[] k = new byte[checkedOutOfLineLength(cell, slot, keyLength(cell, slot), "key")];
            recordBytes(recordOf(cell, slot), 0, k, 0, k.length, false);
            return k;
        }
        byte[] k = new byte[keyLength(cell, slot)];
        checkStoredLength(k.length, keyWidth, cell, slot, "key");
        MemorySegment.copy(seg(cell), ValueLayout.JAVA_BYTE, slotBase(cell, slot) + keyOffsetInSlot, k, 0, k.length);
        return k;
    }

    /** The stored value length, checked: one beyond the value width (or negative) is CORRUPT, with the slot's offset. */
    int checkedValueLength(long cell, int slot) {
        int len = valueLength(cell, slot);
        if (outOfLine(cell, slot)) {
            return checkedOutOfLineLength(cell, slot, len, "value");
        }
        checkStoredLength(len, valueWidth, cell, slot, "value");
        return len;
    }

    byte[] value(long cell, int slot) {
        byte[] v = new byte[checkedValueLength(cell, slot)];
        copyValue(cell, slot, v, v.length);
        return v;
    }

    /** Copies the value into {@code dst}; the caller checked that it is large enough. */
    void copyValue(long cell, int slot, byte[] dst, int len) {
        if (outOfLine(cell, slot)) {
            recordBytes(recordOf(cell, slot), keyLength(cell, slot), dst, 0, len, false);
            return;
        }
        checkStoredLength(len, valueWidth, cell, slot, "value");
        copyOut(seg(cell), slotBase(cell, slot) + valueOffsetInSlot, dst, len);
    }

    /**
     * Copies {@code len} bytes from {@code s} at {@code at} into {@code dst[0..len)}: eight at a time when
     * short (most values), which costs a fraction of a bulk copy's checks, else in bulk.
     */
    private static void copyOut(MemorySegment s, long at, byte[] dst, int len) {
        if (len > 64) {
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, at, dst, 0, len);
            return;
        }
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            ARRAY_LONG_LE.set(dst, i, s.get(LONG_U, at + i));
        }
        for (; i < len; i++) {
            dst[i] = s.get(ValueLayout.JAVA_BYTE, at + i);
        }
    }

    private int checkedOutOfLineLength(long cell, int slot, int len, String what) {
        if (len < 0 || len > Options.MAX_VARIABLE_LENGTH) {
            throw HashIndexException.corrupt(file.path(), slotOffset(cell, slot), "stored out-of-line " + what
                    + " length " + len + " exceeds the limit of " + Options.MAX_VARIABLE_LENGTH + " bytes");
        }
        return len;
    }

    private void checkStoredLength(int len, int width, long cell, int slot, String what) {
        if (len < 0 || len > width) {
            throw HashIndexException.corrupt(file.path(), slotOffset(cell, slot),
                    "stored " + what + " length " + len + " exceeds the " + what + " width " + width);
        }
    }

    /**
     * Whether the slot holds {@code key}, whose hash is {@code hash}: an out-of-line slot is compared by
     * its stored hash and length first, and its record is read only when both match.
     */
    boolean keyEquals(long cell, int slot, byte[] key, long hash) {
        if (outOfLine(cell, slot)) {
            return storedHash(cell, slot) == hash && keyLength(cell, slot) == key.length
                    && recordBytes(recordOf(cell, slot), 0, key, 0, key.length, true);
        }
        return keyEquals(cell, slot, key);
    }

    /** Whether an inline slot holds {@code key} (an out-of-line slot never does: use the hash form). */
    boolean keyEquals(long cell, int slot, byte[] key) {
        MemorySegment s = seg(cell);
        long at = slotBase(cell, slot);
        int len = key.length;
        if (readLength(s, at, keyLengthBytes) != len) {
            return false;
        }
        long k = at + keyOffsetInSlot;
        int i = 0;
        for (; i + 8 <= len; i += 8) {
            if (s.get(LONG_U, k + i) != (long) ARRAY_LONG_LE.get(key, i)) {
                return false;
            }
        }
        for (; i < len; i++) {
            if (s.get(ValueLayout.JAVA_BYTE, k + i) != key[i]) {
                return false;
            }
        }
        return true;
    }

    /** Whether the slot's value has the same bytes as {@code value}. */
    boolean valueEquals(long cell, int slot, byte[] value) {
        int len = checkedValueLength(cell, slot);
        if (len != value.length) {
            return false;
        }
        if (outOfLine(cell, slot)) {
            return recordBytes(recordOf(cell, slot), keyLength(cell, slot), value, 0, len, true);
        }
        long at = slotBase(cell, slot) + valueOffsetInSlot;
        return MemorySegment.mismatch(seg(cell), at, at + len, MemorySegment.ofArray(value), 0, len) < 0;
    }

    /** Writes key and value into a slot (not its tophash: publishing is the caller's separate step). */
    void writeSlot(long cell, int slot, byte[] key, byte[] value) {
        MemorySegment s = seg(cell);
        long at = slotBase(cell, slot);
        writeLength(s, at, keyLengthBytes, key.length);
        MemorySegment.copy(key, 0, s, ValueLayout.JAVA_BYTE, at + keyOffsetInSlot, key.length);
        writeLength(s, at + valueLengthOffsetInSlot, valueLengthBytes, value.length);
        MemorySegment.copy(value, 0, s, ValueLayout.JAVA_BYTE, at + valueOffsetInSlot, value.length);
    }

    /** Copies the used bytes of a slot (lengths, key, value) to another slot; tophash untouched. */
    void copySlot(long fromCell, int fromSlot, long toCell, int toSlot) {
        MemorySegment from = seg(fromCell);
        long fromAt = slotBase(fromCell, fromSlot);
        MemorySegment to = seg(toCell);
        long toAt = slotBase(toCell, toSlot);
        if (outOfLine(fromCell, fromSlot)) {
            // the reference moves; the record stays where it is
            MemorySegment.copy(from, fromAt, to, toAt, keyOffsetInSlot + OUT_OF_LINE_SIZE);
            return;
        }
        int keyLen = readLength(from, fromAt, keyLengthBytes);
        int valueLen = readLength(from, fromAt + valueLengthOffsetInSlot, valueLengthBytes);
        checkStoredLength(keyLen, keyWidth, fromCell, fromSlot, "key");
        checkStoredLength(valueLen, valueWidth, fromCell, fromSlot, "value");
        MemorySegment.copy(from, fromAt, to, toAt, keyOffsetInSlot + keyLen);
        MemorySegment.copy(from, fromAt + valueLengthOffsetInSlot, to, toAt + valueLengthOffsetInSlot,
                valueLengthBytes + valueLen);
    }

    /**
     * Scans the chain starting at {@code cell} for {@code key} and returns its slot reference
     * ({@code cell * SLOTS + slot}) or NONE. In a not-yet-evacuated old bucket, slots already marked
     * evacuated-X/Y (left by a crash in the middle of marking) still hold their entry and match by key.
     */
    long find(long cell, byte[] key, long hash, int top, boolean oldBucket) {
        long pages = 0;
        for (long c = cell; c != NONE; c = overflow(c, pages++)) {
            MemorySegment s = seg(c);
            long b = base(c);
            long tops = s.get(LONG, b + TOPHASH_OFFSET);
            touchLines(s, b);
            for (int i = 0; i < SLOTS; i++) {
                int th = (int) (tops >>> (i * 8)) & 0xFF;
                if (th == top || (oldBucket && (th == EVACUATED_X || th == EVACUATED_Y))) {
                    if (keyEquals(c, i, key, hash)) {
                        return c * SLOTS + i;
                    }
                } else if (th == EMPTY_REST) {
                    return NONE;
                }
            }
        }
        return NONE;
    }

    /** Lines of a cell past its first that {@link #touchLines} reads (slots beyond them are rarely the one a lookup wants first). */
    private static final int TOUCHED_BYTES = 512;
    /** Written only when the touched bytes have one improbable value: a use the compiler cannot remove. */
    @SuppressWarnings("unused")
    private static long touchSink;

    /**
     * Reads one word from each 64-byte line of the cell at {@code b} after its first (up to
     * {@value #TOUCHED_BYTES} bytes), before the lookup has looked at the tophash word. Java has no
     * prefetch instruction; these loads do not depend on the tophash, so the processor sends their
     * cache (and TLB) misses out together with the tophash's, instead of fetching the key's line only
     * once the tophash has arrived and named a slot: one memory latency per lookup instead of two.
     */
    private void touchLines(MemorySegment s, long b) {
        long acc = 0;
        int end = Math.min(stride, TOUCHED_BYTES);
        for (int off = ALIGNMENT; off < end; off += ALIGNMENT) {
            acc += s.get(LONG, b + off);
        }
        if (acc == 0x5EED_C0DE_5EED_C0DEL) {
            touchSink = acc;
        }
    }

    // ---- whole cells encoded into a buffer (the bulk builder writes them through the channel) ----

    /**
     * Encodes a live entry into slot {@code slot} of the cell that starts at {@code at} in {@code buf}:
     * its tophash byte, lengths, key and value (copied from {@code src}). The cell's bytes must be zero
     * before, so the unused key and value bytes stay zero as in a cell written by puts.
     */
    void encodeSlot(MemorySegment buf, long at, int slot, int top, MemorySegment src, long keyAt, int keyLength,
                    long valueAt, int valueLength) {
        buf.set(ValueLayout.JAVA_BYTE, at + TOPHASH_OFFSET + slot, (byte) top);
        long s = at + SLOTS_OFFSET + (long) slot * slotSize;
        writeLength(buf, s, keyLengthBytes, keyLength);
        copySmall(src, keyAt, buf, s + keyOffsetInSlot, keyLength);
        writeLength(buf, s + valueLengthOffsetInSlot, valueLengthBytes, valueLength);
        copySmall(src, valueAt, buf, s + valueOffsetInSlot, valueLength);
    }

    /** Copies {@code n} bytes: eight at a time when short (most keys, values and run records), else in bulk. */
    static void copySmall(MemorySegment src, long from, MemorySegment dst, long to, int n) {
        if (n > 64) {
            MemorySegment.copy(src, from, dst, to, n);
            return;
        }
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            dst.set(LONG_U, to + i, src.get(LONG_U, from + i));
        }
        for (; i < n; i++) {
            dst.set(ValueLayout.JAVA_BYTE, to + i, src.get(ValueLayout.JAVA_BYTE, from + i));
        }
    }

    /**
     * Encodes slot {@code slot} of the cell at {@code at} in {@code buf} as an out-of-line slot naming the
     * record that starts at cell {@code record} (see {@link #writeOutOfLineSlot}), with its tophash.
     */
    void encodeOutOfLineSlot(MemorySegment buf, long at, int slot, int top, long record, long hash, int keyLength,
                             int valueLength) {
        buf.set(ValueLayout.JAVA_BYTE, at + TOPHASH_OFFSET + slot, (byte) top);
        long s = at + SLOTS_OFFSET + (long) slot * slotSize;
        buf.set(ValueLayout.JAVA_BYTE, s, (byte) OUT_OF_LINE_MARK);
        long ref = s + keyOffsetInSlot;
        buf.set(LONG_U, ref + OOL_RECORD_OFFSET, record + 1);
        buf.set(LONG_U, ref + OOL_HASH_OFFSET, hash);
        buf.set(INT_U, ref + OOL_KEY_LENGTH_OFFSET, keyLength);
        buf.set(INT_U, ref + OOL_VALUE_LENGTH_OFFSET, valueLength);
    }

    /** Encodes {@code n} bytes of record data from {@code src} at {@code from} into the record cell at {@code at} in {@code buf}. */
    static void encodeRecordData(MemorySegment buf, long at, MemorySegment src, long from, int n) {
        MemorySegment.copy(src, from, buf, at + RECORD_DATA_OFFSET, n);
    }

    /** Encodes the overflow link of the cell at {@code at} in {@code buf}: the next page is {@code next}. */
    static void encodeOverflow(MemorySegment buf, long at, long next) {
        buf.set(LONG_U, at + OVERFLOW_OFFSET, next + 1);
    }

    /** Encodes the cell at {@code at} in {@code buf} as the head of a free run (see {@link #setFreeRun}). */
    static void encodeFreeRun(MemorySegment buf, long at, long next, long length) {
        buf.set(LONG_U, at + FREE_RUN_LENGTH_OFFSET, length);
        buf.set(LONG_U, at + FREE_RUN_NEXT_OFFSET, next + 1);
    }

    /**
     * The slot of the chain starting at {@code cell} whose key has the 64-bit hash {@code hash} (kept in
     * an out-of-line slot, computed from an inline key with {@code seed}) and tophash {@code top}, or
     * NONE: an iterator finds an entry that moved on this way, without reading the record the old slot
     * names (which may have been freed since). The entry may be inline now, after an overwrite.
     */
    long findByHash(long cell, long hash, int top, boolean oldBucket, long seed) {
        long pages = 0;
        for (long c = cell; c != NONE; c = overflow(c, pages++)) {
            for (int i = 0; i < SLOTS; i++) {
                int th = tophash(c, i);
                if ((th == top || (oldBucket && (th == EVACUATED_X || th == EVACUATED_Y)))
                        && (outOfLine(c, i) ? storedHash(c, i) : Hashing.hash(key(c, i), seed)) == hash) {
                    return c * SLOTS + i;
                } else if (th == EMPTY_REST) {
                    return NONE;
                }
            }
        }
        return NONE;
    }

    static boolean isEmpty(int tophash) {
        return tophash <= EMPTY_ONE || tophash == EVACUATED_EMPTY;
    }

    static boolean isEvacuatedMark(int tophash) {
        return tophash >= EVACUATED_X && tophash <= EVACUATED_EMPTY;
    }
}
