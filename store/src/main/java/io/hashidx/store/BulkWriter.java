package io.hashidx.store;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Writes a new index file front to back through its channel, never through a mapping and never
 * zeros first: the bucket array in bucket order (cell 1 onwards) as one sequential stream, and the
 * overflow pages as a second sequential stream after the array, each page taking the next cell as a
 * chain needs it (in a variable-length file, the records of out-of-line entries too, see {@link #write}). Then the free run that a presized file keeps for later overflow pages, and last
 * the header page. Cells are encoded by {@link BucketLayout}; the file is the same a presized
 * {@link HashIndex#create} followed by puts describes (FORMAT.md, "Presizing").
 *
 * <p>Every {@value #SYNC_INTERVAL} bytes a third thread forces the file to the disk while the
 * writer goes on, so the disk writes during the build instead of all at the end, and dirty pages
 * never pile up: a build runs at the disk's speed also when the file is much larger than the memory.
 */
final class BulkWriter implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final BucketLayout layout;
    private final long bucketCount;
    private final CellStream buckets;
    private final CellStream overflow;
    static final long SYNC_INTERVAL = 64L << 20;

    private final Arena arena = Arena.ofShared();
    private long unsynced;
    private final ExecutorService syncer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "hashidx-bulk-sync");
        t.setDaemon(true);
        return t;
    });
    private Future<?> syncing;
    private final RunFormat.Cursor record = new RunFormat.Cursor();
    private long nextOverflowCell;
    private long entries;
    /** Record cells written (a variable-length file): they take cells of the overflow stream. */
    private long recordCells;
    /** The first cell of the record of each entry of the bucket being written, or NONE (inline). */
    private long[] recordOf = new long[64];

    /**
     * @param bufferBytes bytes of each of the two write buffers (at least one cell is used)
     */
    BulkWriter(Path path, FileChannel channel, BucketLayout layout, long bucketCount, long bufferBytes) {
        this.path = path;
        this.channel = channel;
        this.layout = layout;
        this.bucketCount = bucketCount;
        long size = Math.max(bufferBytes, 2L * layout.stride);
        this.buckets = new CellStream(arena.allocate(size, 64), 0);
        this.overflow = new CellStream(arena.allocate(size, 64), 1 + bucketCount);
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
            MemorySegment page = buckets.buffer;
            long at = buckets.next(1 + b);
            int slot = 0;
            while (i < batch.emittedCount && batch.emittedBucket[i] == b - batch.firstBucket) {
                if (slot == BucketLayout.SLOTS) {
                    long cell = nextOverflowCell++;
                    BucketLayout.encodeOverflow(page, at, cell);
                    page = overflow.buffer;
                    at = overflow.next(cell);
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
            BucketLayout.encodeFreeRun(overflow.buffer, overflow.next(first), BucketLayout.NONE, free);
            for (long c = first + 1; c < first + free; c++) {
                overflow.next(c);
            }
            h.freeRoot = first;
            h.freeCells = free;
        }
        buckets.flush();
        overflow.flush();
        awaitSync();
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
        ByteBuffer b = from.asSlice(0, length).asByteBuffer();
        long at = position;
        while (b.hasRemaining()) {
            at += channel.write(b, at);
        }
    }

    /** Waits for the background sync, if one runs, and reports its failure. */
    private void awaitSync() {
        if (syncing == null) {
            return;
        }
        try {
            syncing.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw BulkFiles.writeFailed(path, "forcing the index to the disk", io);
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while forcing " + path + " to the disk", e);
        } finally {
            syncing = null;
        }
    }

    @Override
    public void close() {
        syncer.shutdown();
        try {
            syncer.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        arena.close();
    }

    /**
     * One sequential stream of cells through a zeroed buffer: the cell after the previous one, with
     * the unused bytes at the end of a chunk written as zeros (no holes, the file is never sparse).
     */
    private final class CellStream {
        final MemorySegment buffer;
        /** File offset of the buffer's first byte. */
        private long position;
        private long filled;
        private long nextCell;

        CellStream(MemorySegment buffer, long firstCell) {
            this.buffer = buffer;
            this.nextCell = firstCell;
            this.position = layout.endOfCells(firstCell);
        }

        /** Where cell {@code cell}, which must be the next one of this stream, starts in {@link #buffer}. */
        long next(long cell) {
            if (cell != nextCell) {
                throw new IllegalStateException("cell " + cell + " written out of order, expected " + nextCell);
            }
            long offset = layout.cellOffset(cell);
            if (offset + layout.stride - position > buffer.byteSize()) {
                flush();
            }
            nextCell++;
            long at = offset - position;
            filled = at + layout.stride;
            return at;
        }

        /** Writes what the buffer holds and zeroes it for reuse. */
        void flush() {
            if (filled == 0) {
                return;
            }
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
