package io.hashidx.store;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;

/**
 * The run being filled by {@link BulkBuilder#add}, in off-heap memory. Each partition is a byte
 * stream of run records ({@link RunFormat}) kept in a chain of fixed-size blocks: appending writes
 * at the end of the partition's last block (a record may continue in the next block), and a
 * partition is read back block by block, in order. Appending to the builder's 1,024 partitions keeps
 * 1,024 write positions, which stay in the CPU caches; reading a partition reads whole blocks. Nothing is sorted
 * and no record is read at random.
 *
 * <p>Blocks are cut from slabs allocated as the run fills, so a small build uses little memory. A
 * block is about 1/8 of the run's capacity divided by the partitions, so the partly filled last
 * blocks waste about 1/16 of the memory on average. Given an executor, the run allocates its next
 * slab there while the caller fills the current one: a new slab is zeroed and every one of its pages
 * faulted in on first touch, about 0.1 s of the caller's time per 10 million 32-byte records on the
 * benchmark machine, which another core can spend instead. It never allocates beyond its capacity.
 *
 * <p>Write combining: the 1,024 write positions lie in 1,024 different pages, so appending straight to
 * them costs a cache miss per record. A run with room for it first gathers each partition's records
 * in a small buffer of its own ({@value #COMBINE} bytes, all of them together 256 KiB, which the
 * second-level cache and the TLB cover) and moves a full buffer to the partition's block in one copy:
 * one miss per several records. A partition's records are its blocks followed by its buffer.
 */
final class MemoryRun implements BulkRun {
    private static final int MIN_BLOCK = 256;
    private static final int MAX_BLOCK = 64 << 10;
    private static final long MAX_SLAB = 16L << 20;
    private static final int NONE = -1;
    /** Bytes of each partition's write-combining buffer. */
    static final int COMBINE = 256;

    private final int blockSize;
    private final int blocksPerSlab;
    /** Blocks the capacity allows; an empty run still takes a record larger than that. */
    private final long maxBlocks;
    private final Arena arena = Arena.ofShared();
    private final List<MemorySegment> slabs = new ArrayList<>();
    /** Where the next slab is allocated ahead of need, or null. */
    private final Executor allocator;
    private Future<MemorySegment> nextSlab;
    private int[] nextBlock = new int[1024];
    private int blocksUsed;
    private final int[] firstBlock;
    private final int[] lastBlock;
    /** Bytes used in each partition's last block. */
    private final int[] lastFill;
    private final long[] bytes;
    private long records;
    private MemorySegment scratch;
    /** The write-combining buffers, {@link #COMBINE} bytes per partition; null when the run is too small for them. */
    private MemorySegment combine;
    /** Bytes waiting in each partition's write-combining buffer. */
    private final int[] pending;

    MemoryRun(int partitions, long capacity) {
        this(partitions, capacity, null);
    }

    /** @param allocator where to allocate the next slab ahead of need, or null */
    MemoryRun(int partitions, long capacity, Executor allocator) {
        this.allocator = allocator;
        int block = (int) Math.clamp(capacity / (8L * partitions), MIN_BLOCK, MAX_BLOCK);
        this.blockSize = block / 64 * 64;
        this.blocksPerSlab = (int) Math.max(1, Math.min(capacity, MAX_SLAB) / blockSize);
        this.maxBlocks = Math.max(1, capacity / blockSize);
        this.firstBlock = new int[partitions];
        this.lastBlock = new int[partitions];
        this.lastFill = new int[partitions];
        this.bytes = new long[partitions];
        this.pending = new int[partitions];
        Arrays.fill(firstBlock, NONE);
        Arrays.fill(lastBlock, NONE);
        if (capacity / partitions >= 16L * COMBINE) {
            combine = arena.allocate((long) partitions * COMBINE, 64);
        }
    }

    /**
     * Appends a record to partition {@code p}; false when the run has no room left for it (then the
     * caller spills this run and appends to another).
     */
    boolean append(int p, byte[] key, int keyOffset, int keyLength, byte[] value, int valueOffset, int valueLength) {
        long size = RunFormat.size(keyLength, valueLength);
        if (combine != null) {
            int waiting = pending[p];
            if (waiting > 0 && waiting + size > COMBINE) {
                // the record does not fit beside what waits: move that to the partition first
                if (!hasRoom(p, waiting + size)) {
                    return false;
                }
                appendBytes(p, combine, (long) p * COMBINE, waiting);
                pending[p] = waiting = 0;
            }
            if (waiting + size <= COMBINE) {
                RunFormat.write(combine, (long) p * COMBINE + waiting, key, keyOffset, keyLength, value, valueOffset,
                        valueLength);
                pending[p] = waiting + (int) size;
                bytes[p] += size;
                records++;
                return true;
            }
        }
        int last = lastBlock[p];
        if (last != NONE && lastFill[p] + size <= blockSize) {
            RunFormat.write(slab(last), blockOffset(last) + lastFill[p], key, keyOffset, keyLength, value, valueOffset,
                    valueLength);
            lastFill[p] += (int) size;
        } else {
            if (!hasRoom(p, size)) {
                return false;
            }
            if (scratch == null || scratch.byteSize() < size) {
                scratch = arena.allocate(Math.max(size, 4096), 8);
            }
            RunFormat.write(scratch, 0, key, keyOffset, keyLength, value, valueOffset, valueLength);
            appendBytes(p, scratch, 0, size);
        }
        bytes[p] += size;
        records++;
        return true;
    }

    /** Whether {@code size} more bytes fit in partition {@code p} (always, in an empty run: one record may exceed the capacity). */
    private boolean hasRoom(int p, long size) {
        int last = lastBlock[p];
        long room = last == NONE ? 0 : blockSize - lastFill[p];
        long newBlocks = Math.max(0, (size - room + blockSize - 1) / blockSize);
        return blocksUsed + newBlocks <= maxBlocks || records == 0;
    }

    /** Copies {@code size} bytes of {@code from} at {@code offset} to the end of partition {@code p}, taking new blocks as needed. */
    private void appendBytes(int p, MemorySegment from, long offset, long size) {
        long done = 0;
        while (done < size) {
            int last = lastBlock[p];
            if (last == NONE || lastFill[p] == blockSize) {
                int b = newBlock();
                if (last == NONE) {
                    firstBlock[p] = b;
                } else {
                    nextBlock[last] = b;
                }
                lastBlock[p] = b;
                lastFill[p] = 0;
                last = b;
            }
            long piece = Math.min(size - done, blockSize - lastFill[p]);
            MemorySegment.copy(from, offset + done, slab(last), blockOffset(last) + lastFill[p], piece);
            lastFill[p] += (int) piece;
            done += piece;
        }
    }

    private int newBlock() {
        int b = blocksUsed++;
        if (b == nextBlock.length) {
            nextBlock = Arrays.copyOf(nextBlock, b * 2);
        }
        nextBlock[b] = NONE;
        if (b / blocksPerSlab == slabs.size()) {
            slabs.add(takeSlab());
        }
        return b;
    }

    /**
     * A new slab: the one allocated ahead (waiting for it: it is further along than a new one would
     * be), else one allocated now; then the next one is started.
     */
    private MemorySegment takeSlab() {
        MemorySegment slab = nextSlab != null ? awaitNextSlab() : null;
        if (slab == null) {
            slab = arena.allocate(slabBytes(), 64);
        }
        long slabsForCapacity = (maxBlocks + blocksPerSlab - 1) / blocksPerSlab;
        if (allocator != null && nextSlab == null && slabs.size() + 2 <= slabsForCapacity) {
            FutureTask<MemorySegment> task = new FutureTask<>(() -> arena.allocate(slabBytes(), 64));
            allocator.execute(task);
            nextSlab = task;
        }
        return slab;
    }

    /** The slab allocated ahead (waiting for it), or null if that failed (the caller allocates its own). */
    private MemorySegment awaitNextSlab() {
        Future<MemorySegment> f = nextSlab;
        nextSlab = null;
        return BulkBuilder.getQuietly(f);
    }

    private long slabBytes() {
        return (long) blocksPerSlab * blockSize;
    }

    private MemorySegment slab(int block) {
        return slabs.get(block / blocksPerSlab);
    }

    private long blockOffset(int block) {
        return (long) (block % blocksPerSlab) * blockSize;
    }

    long records() {
        return records;
    }

    /** Bytes of the slabs allocated, including one allocated ahead (tests). */
    long allocatedBytes() {
        return (slabs.size() + (nextSlab != null ? 1 : 0)) * slabBytes();
    }

    boolean isEmpty() {
        return records == 0;
    }

    @Override
    public long bytes(int p) {
        return bytes[p];
    }

    /** Copies partition {@code p}'s records, in the order they were appended, to {@code dst} at {@code at}. */
    void copyPartition(int p, MemorySegment dst, long at) {
        for (int b = firstBlock[p]; b != NONE; b = nextBlock[b]) {
            int length = b == lastBlock[p] ? lastFill[p] : blockSize;
            MemorySegment.copy(slab(b), blockOffset(b), dst, at, length);
            at += length;
        }
        if (pending[p] > 0) {
            MemorySegment.copy(combine, (long) p * COMBINE, dst, at, pending[p]);
        }
    }

    @Override
    public long copyPartitions(int from, int to, MemorySegment dst, long at) {
        long start = at;
        for (int p = from; p < to; p++) {
            copyPartition(p, dst, at);
            at += bytes[p];
        }
        return at - start;
    }

    /** Empties the run for reuse, keeping its memory. */
    void clear() {
        blocksUsed = 0;
        records = 0;
        Arrays.fill(firstBlock, NONE);
        Arrays.fill(lastBlock, NONE);
        Arrays.fill(lastFill, 0);
        Arrays.fill(pending, 0);
        Arrays.fill(bytes, 0);
    }

    @Override
    public void close() {
        if (nextSlab != null) {
            awaitNextSlab(); // not freed under the thread allocating it
        }
        if (!slabs.isEmpty() || scratch != null || combine != null) {
            slabs.clear();
            scratch = null;
            combine = null;
            arena.close();
        }
    }
}
