package io.hashidx.store;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Writes a new index file front to back, never through a mapping and never zeros first: the bucket
 * array in bucket order (cell 1 onwards) as one sequential stream, and the overflow pages as a second
 * sequential stream after the array, each page taking the next cell as a chain needs it (in a
 * variable-length file, the records of out-of-line entries too, see {@link #write}). Then the free run
 * that a presized file keeps for later overflow pages, and last the header page. Cells are encoded by
 * {@link BucketLayout}; the file is the same a presized {@link HashIndex#create} followed by puts
 * describes (FORMAT.md, "Presizing").
 *
 * <p><b>Direct I/O</b> (when the file system takes {@code O_DIRECT}, see {@link BulkFiles#openDirect}):
 * each stream fills one buffer while a third thread writes the other one straight to the disk, whole
 * blocks only, so the data is never copied into the page cache. Copying half a gigabyte into newly
 * allocated page-cache pages cost 0.15 s of CPU per 10 million entries at best and over 1 s at worst
 * on the benchmark machine (a VM whose fresh pages are slow to touch), on the thread that encodes
 * the buckets. The few blocks that are not whole in one stream (where the overflow stream starts
 * in the bucket stream's last block, and the file's last block) are written through the page cache
 * after every direct write has ended, never beside one. Else (<b>buffered</b>) every
 * {@value #SYNC_INTERVAL} bytes the third thread forces the file to the disk while the writer goes on,
 * so the disk writes during the build instead of all at the end, and dirty pages never pile up. Either
 * way a build runs at the disk's speed also when the file is much larger than the memory, and the
 * file is forced to the disk (data, size and header) before it gets its name.
 */
final class BulkWriter implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    /** The same file opened with O_DIRECT, or null: every write goes through the page cache. */
    private final FileChannel direct;
    /** The direct channel's block size: the alignment of its writes' positions, lengths and buffers. */
    private final int block;
    private final BucketLayout layout;
    private final long bucketCount;
    private final CellStream buckets;
    private final CellStream overflow;
    static final long SYNC_INTERVAL = 64L << 20;

    private final Arena arena = Arena.ofShared();
    private long unsynced;
    /** Direct I/O: pieces of blocks left to write through the page cache at the end. */
    private final List<Piece> pieces = new ArrayList<>();
    private final ExecutorService syncer = BulkBuilder.daemonThread("hashidx-bulk-io");
    private Future<?> syncing;
    private final RunFormat.Cursor record = new RunFormat.Cursor();
    private long nextOverflowCell;
    private long entries;
    /** Record cells written (a variable-length file): they take cells of the overflow stream. */
    private long recordCells;
    /** The first cell of the record of each entry of the bucket being written, or NONE (inline). */
    private long[] recordOf = new long[64];

    /**
     * @param direct      the file opened with O_DIRECT ({@link BulkFiles#openDirect}), or null
     * @param block       {@code direct}'s block size (ignored without it)
     * @param bufferBytes bytes of buffers per stream: one buffer, or two of half the size with direct
     *                    I/O (at least two cells and two blocks are used)
     */
    BulkWriter(Path path, FileChannel channel, FileChannel direct, int block, BucketLayout layout, long bucketCount,
               long bufferBytes) {
        this.path = path;
        this.channel = channel;
        this.direct = direct;
        this.block = direct == null ? 1 : block;
        this.layout = layout;
        this.bucketCount = bucketCount;
        long size = direct == null ? Math.max(bufferBytes, 2L * layout.stride)
                : alignUp(Math.max(bufferBytes / 2, 2L * layout.stride + 2L * block));
        this.buckets = new CellStream(size, 0);
        this.overflow = new CellStream(size, 1 + bucketCount);
        this.nextOverflowCell = 1 + bucketCount;
        buckets.next(0); // the journal cell: zeros
    }

    /**
     * Writes every bucket of the batch, with their overflow pages. In a variable-length file the records
     * of a bucket's out-of-line entries come first in the overflow stream, each a run of consecutive
     * cells linked in order, then the bucket's overflow pages: so the page being filled is always the
     * stream's last cell.
     */
    void write(BulkBatch batch) {
        MemorySegment src = batch.records;
        RunFormat.Cursor record = this.record;
        int i = 0;
        for (long b = batch.firstBucket; b < batch.endBucket; b++) {
            int first = i;
            if (layout.variable) {
                writeRecords(batch, first, (int) (b - batch.firstBucket));
            }
            long at = buckets.next(1 + b);
            MemorySegment page = buckets.buffer;
            int slot = 0;
            while (i < batch.emittedCount && batch.emittedBucket[i] == b - batch.firstBucket) {
                if (slot == BucketLayout.SLOTS) {
                    long cell = nextOverflowCell++;
                    BucketLayout.encodeOverflow(page, at, cell);
                    at = overflow.next(cell);
                    page = overflow.buffer;
                    slot = 0;
                }
                long hash = batch.emittedHash[i];
                int top = Hashing.tophash(hash);
                record.read(src, batch.emitted[i]);
                if (layout.variable && recordOf[i - first] != BucketLayout.NONE) {
                    layout.encodeOutOfLineSlot(page, at, slot++, top, recordOf[i - first], hash, record.keyLength,
                            record.valueLength);
                } else {
                    layout.encodeSlot(page, at, slot++, top, src, record.keyAt, record.keyLength, record.valueAt,
                            record.valueLength);
                }
                i++;
                entries++;
            }
        }
    }

    /**
     * Writes the records of the out-of-line entries of {@code bucket} (relative to the batch's first),
     * whose entries (if any) start at {@code first}.
     */
    private void writeRecords(BulkBatch batch, int first, int bucket) {
        MemorySegment src = batch.records;
        RunFormat.Cursor record = this.record;
        for (int i = first; i < batch.emittedCount && batch.emittedBucket[i] == bucket; i++) {
            if (i - first == recordOf.length) {
                recordOf = java.util.Arrays.copyOf(recordOf, recordOf.length * 2);
            }
            record.read(src, batch.emitted[i]);
            if (!layout.needsRecord(record.keyLength, record.valueLength)) {
                recordOf[i - first] = BucketLayout.NONE;
                continue;
            }
            // key then value: they follow each other in the run's record as in a record's cells
            long total = (long) record.keyLength + record.valueLength;
            long cells = layout.recordCellsFor(total);
            long start = nextOverflowCell;
            recordOf[i - first] = start;
            for (long c = 0; c < cells; c++) {
                long cell = nextOverflowCell++;
                long at = overflow.next(cell);
                if (c + 1 < cells) {
                    BucketLayout.encodeOverflow(overflow.buffer, at, cell + 1);
                }
                long from = c * layout.recordCapacity;
                int n = (int) Math.min(layout.recordCapacity, total - from);
                BucketLayout.encodeRecordData(overflow.buffer, at, src, record.keyAt + from, n);
            }
            recordCells += cells;
        }
    }

    long overflowPages() {
        return nextOverflowCell - (1 + bucketCount) - recordCells;
    }

    long recordCells() {
        return recordCells;
    }

    long entries() {
        return entries;
    }

    /**
     * Writes the free run that keeps {@code reserve} cells for overflow pages minus those used, then
     * the header page, and forces the file to the disk. Returns the header written.
     */
    Header finish(Header h, long reserve) {
        // overflow pages and record cells take the reserve's cells alike, as puts into a presized file would
        long used = nextOverflowCell - (1 + bucketCount);
        long free = Math.max(0, reserve - used);
        h.bucketCount = bucketCount;
        h.overflowPages = overflowPages();
        h.recordCells = recordCells;
        h.allocatedCells = 1 + bucketCount + used + free;
        if (free > 0) {
            long first = nextOverflowCell;
            long at = overflow.next(first);
            BucketLayout.encodeFreeRun(overflow.buffer, at, BucketLayout.NONE, free);
            for (long c = first + 1; c < first + free; c++) {
                overflow.next(c);
            }
            h.freeRoot = first;
            h.freeCells = free;
        }
        buckets.flush(true);
        overflow.flush(true);
        awaitSync();
        buckets.awaitWrites();
        overflow.awaitWrites();
        try {
            for (Piece p : pieces) {
                write(MemorySegment.ofArray(p.bytes), p.bytes.length, p.position);
            }
        } catch (IOException e) {
            throw BulkFiles.writeFailed(path, "writing the index", e);
        }
        h.count = entries;
        MemorySegment page = arena.allocate(MappedFile.DATA_START, 64);
        Header.setLiveCount(page, entries);
        h.store(page);
        try {
            write(page, MappedFile.DATA_START, 0);
            channel.force(true);
        } catch (IOException e) {
            throw BulkFiles.writeFailed(path, "writing the header", e);
        }
        return h;
    }

    private void write(MemorySegment from, long length, long position) throws IOException {
        BulkFiles.writeFully(channel, from.asSlice(0, length), position);
    }

    private long alignUp(long offset) {
        return (offset + block - 1) / block * block;
    }

    private long alignDown(long offset) {
        return offset / block * block;
    }

    /** Bytes at {@code position} to write through the page cache once every direct write has ended. */
    private record Piece(long position, byte[] bytes) {
    }

    /** Waits for the background sync, if one runs, and reports its failure. */
    private void awaitSync() {
        try {
            await(syncing, "forcing the index to the disk");
        } finally {
            syncing = null;
        }
    }

    /** Waits for {@code task} (null: nothing), reporting an I/O failure as one while {@code doing}. */
    private void await(Future<?> task, String doing) {
        if (task == null) {
            return;
        }
        try {
            task.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw BulkFiles.writeFailed(path, doing, io);
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while " + doing + ": " + path, e);
        }
    }

    /**
     * Stops the I/O thread, waiting (through interrupts) until it has let go of the buffers, then
     * frees them.
     */
    @Override
    public void close() {
        syncer.shutdown();
        boolean interrupted = false;
        while (true) {
            try {
                if (syncer.awaitTermination(1, TimeUnit.MINUTES)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        arena.close();
    }

    /**
     * One sequential stream of cells through a zeroed buffer: the cell after the previous one, with
     * the unused bytes at the end of a chunk written as zeros (no holes, the file is never sparse).
     * With direct I/O the buffer starts at a block boundary, so its first bytes may lie before the
     * stream's start (they are the previous stream's, and never written from here); a full buffer's
     * whole blocks go to the disk on the I/O thread while the stream goes on in the other buffer,
     * which takes over the partly filled last block.
     */
    private final class CellStream {
        /** Where cells are encoded; read it after {@link #next}, which may swap it (direct I/O). */
        MemorySegment buffer;
        /** Direct I/O: the other buffer, being written and then zeroed by {@link #written}. */
        private MemorySegment spare;
        private Future<?> written;
        /** Direct I/O: the write of the last flush. */
        private Future<?> last;
        private final long size;
        /** File offset of the stream's first byte. */
        private final long start;
        /** File offset of the buffer's first byte. */
        private long position;
        private long filled;
        private long nextCell;

        CellStream(long size, long firstCell) {
            this.size = size;
            this.buffer = arena.allocate(size, Math.max(64, block));
            this.nextCell = firstCell;
            this.start = layout.endOfCells(firstCell);
            this.position = alignDown(start);
            this.filled = start - position;
        }

        /** Where cell {@code cell}, which must be the next one of this stream, starts in {@link #buffer}. */
        long next(long cell) {
            if (cell != nextCell) {
                throw new IllegalStateException("cell " + cell + " written out of order, expected " + nextCell);
            }
            long offset = layout.cellOffset(cell);
            if (offset + layout.stride - position > size) {
                flush(false);
            }
            nextCell++;
            long at = offset - position;
            filled = at + layout.stride;
            return at;
        }

        /** Writes what the buffer holds ({@code end}: also a last, partly filled block) and makes room for more. */
        void flush(boolean end) {
            if (filled == 0 || position + filled <= start) {
                return; // nothing written into this stream since the last flush
            }
            if (direct == null) {
                flushBuffered();
                return;
            }
            long to = position + filled;
            long from = Math.max(position, start);
            long directFrom = Math.min(alignUp(from), to);
            long directTo = Math.max(directFrom, alignDown(to));
            if (from < directFrom) {
                keepPiece(from, directFrom); // the block the previous stream ends in
            }
            if (end && directTo < to) {
                keepPiece(directTo, to);
            }
            MemorySegment whole = buffer.asSlice(directFrom - position, directTo - directFrom);
            long at = directFrom;
            if (end) {
                last = whole.byteSize() == 0 ? null : syncer.submit(() -> {
                    BulkFiles.writeFully(direct, whole, at);
                    return null;
                });
                position = to;
                filled = 0;
                return;
            }
            MemorySegment next = takeSpare();
            long tail = to - directTo;
            MemorySegment.copy(buffer, directTo - position, next, 0, tail);
            // the I/O thread writes the whole blocks, then zeroes the buffer for its next turn
            MemorySegment used = buffer.asSlice(0, filled);
            written = syncer.submit(() -> {
                if (whole.byteSize() > 0) {
                    BulkFiles.writeFully(direct, whole, at);
                }
                used.fill((byte) 0);
                return null;
            });
            spare = buffer;
            buffer = next;
            position = directTo;
            filled = tail;
        }

        private void keepPiece(long from, long to) {
            pieces.add(new Piece(from, buffer.asSlice(from - position, to - from).toArray(ValueLayout.JAVA_BYTE)));
        }

        /** The other buffer, once the I/O thread has written and zeroed it. */
        private MemorySegment takeSpare() {
            if (spare == null) {
                return arena.allocate(size, block);
            }
            awaitWrite(written);
            written = null;
            MemorySegment s = spare;
            spare = null;
            return s;
        }

        /** Waits for this stream's direct writes in flight. */
        void awaitWrites() {
            awaitWrite(written);
            written = null;
            awaitWrite(last);
            last = null;
        }

        private void awaitWrite(Future<?> write) {
            await(write, "writing the index");
        }

        /** Writes what the buffer holds through the page cache and zeroes it for reuse. */
        private void flushBuffered() {
            try {
                write(buffer, filled, position);
                unsynced += filled;
                if (unsynced >= SYNC_INTERVAL && (syncing == null || syncing.isDone())) {
                    awaitSync();
                    syncing = syncer.submit(() -> {
                        channel.force(false);
                        return null;
                    });
                    unsynced = 0;
                }
            } catch (IOException e) {
                throw BulkFiles.writeFailed(path, "writing the index", e);
            }
            buffer.asSlice(0, filled).fill((byte) 0);
            position += filled;
            filled = 0;
        }
    }
}
