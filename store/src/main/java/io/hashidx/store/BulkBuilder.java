package io.hashidx.store;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes a new index file from many entries at once, front to back, instead of one put at a time.
 *
 * <pre>{@code
 * try (BulkBuilder b = HashIndex.bulkBuilder(Path.of("users.hidx"), Options.widths(16, 64)).memory(2L << 30)) {
 *     for (...) b.add(key, value);            // duplicate keys: the last one added wins
 *     BulkBuilder.Result r = b.build();       // the file appears only now, complete
 * }
 * }</pre>
 *
 * <h2>Why</h2>
 * Puts into a mapped file write wherever the hash points: once the file is larger than the page
 * cache, every put is a random read and a random write of a page. A bulk build never writes a page
 * twice and writes the file in order, at the disk's sequential speed, whatever its size.
 *
 * <h2>How</h2>
 * <ol>
 *   <li><b>Partitioning</b> ({@link #add}): each record is hashed and appended to an in-memory run
 *       under the partition given by the top {@value #PARTITION_BITS} bits of its hash. Two runs in
 *       memory take about 3/4 of the memory budget. The first full run stays in memory until the
 *       second is full, so records that fit in two runs are never written to a run file; past that,
 *       a full run is written to a temporary run file, partition after partition, by a second thread
 *       while the caller keeps adding to the other run. (Hashing on a second thread while the caller
 *       only copies was tried: on this 2-core machine it made adding 10M records slower, 0.71-1.16 s
 *       against 0.52-0.62 s, so the caller hashes.)
 *   <li><b>Writing</b> ({@link #build}): the bucket count is now known (presized for the records
 *       added, or {@link Options#expectedEntries} if larger, as {@link HashIndex#create} presizes).
 *       Since the bucket index grows with the hash, partitions in order are buckets in order. The
 *       caller reads a few partitions from every run, sorts them by bucket and keeps the last
 *       record of each key; the second thread meanwhile writes the previous batch: the bucket array
 *       as one sequential stream and the overflow pages as another, then the reserved free pages,
 *       and the header page last ({@link BulkWriter}). Where the file system takes {@code O_DIRECT}
 *       the writer's whole blocks go straight to the disk on a third thread while it encodes the next
 *       ones, and the index never passes through the page cache; elsewhere the third thread forces
 *       what was written every 64 MiB, so the disk is busy all along and dirty pages do not pile up.
 *   <li><b>Publishing</b>: the file is forced to the disk and only then given its name (a hard link,
 *       or an atomic rename). Until then it is {@code TARGET.bulk-ID.tmp} beside the target, with the
 *       runs as {@code TARGET.bulk-ID.run-N}. A process killed at any moment leaves no target, only
 *       temporary files, which the next build of the same target deletes ({@link BulkFiles}).
 * </ol>
 * The file is the one a presized {@link HashIndex#create} with the same seed followed by the same
 * puts describes: same bucket count and seed, same entries, the same free pages set aside; only the
 * order of entries within a bucket and the cells their overflow pages take may differ.
 *
 * <p>Measured on the quiet 2-core benchmark machine with 16-byte keys and values ({@code
 * BulkLoadBenchmark}, one JMH run, every result forced to the disk): 10 million entries in 0.90 s ±
 * 0.12 with 512 MiB, lmdbjava's sorted {@code MDB_APPEND} load 1.08 s ± 0.03, puts into a presized
 * file 5.3 s. Of the 0.9 s, adding takes 0.39-0.45 s (the caller's thread: hashing and partitioning)
 * and the build phase 0.43-0.50 s, in which the writer waits for the disk (writing the 568 MB file
 * takes 0.3-0.47 s at this disk's 1.3-1.9 GB/s, as {@code dd oflag=direct} measures it). 100 million
 * entries from a TSV file through {@code hashidx load --memory 2g --key-size 16 --value-size 16} in
 * 13.4-19.3 s, 1.49 GiB peak RSS, verify clean; in a memory cgroup of 4 GiB (page cache included)
 * in 14.3 s.
 *
 * <p>The memory budget covers the runs and buffers, outside the Java heap. Not thread-safe: one
 * thread adds and builds. The builder holds the lock of its temporary file until {@link #build} or
 * {@link #close}.
 */
public final class BulkBuilder implements AutoCloseable {
    /** The memory budget when {@link #memory} is not called: 256 MiB. */
    public static final long DEFAULT_MEMORY = 256L << 20;
    /** The smallest memory budget: 4 MiB. */
    public static final long MIN_MEMORY = 4L << 20;

    /**
     * 1,024 partitions: their write positions (and write-combining buffers, {@link MemoryRun}) stay
     * within the TLB's reach and the second-level cache. With 4,096, adding 10M records of 16/16 bytes
     * took 0.51-0.59 s, with 1,024 0.39-0.43 s (256: no faster). A partition is the least a batch of
     * the build holds: at 100M such records about 3.3 MB, at a billion 33 MB.
     */
    static final int PARTITION_BITS = 10;
    static final int PARTITIONS = 1 << PARTITION_BITS;
    private static final long MAX_BUFFER = 8L << 20;

    /**
     * Called by {@link #build} on the building thread as it goes. The "writing" phase reports
     * {@code done == total} exactly once: when the file is complete and synced, just before it gets
     * its name.
     */
    @FunctionalInterface
    public interface ProgressListener {
        /**
         * @param phase "partitioning" (finishing the runs) or "writing" (buckets written so far)
         * @param done  work done in this phase: records partitioned, or buckets written
         * @param total the phase's total work in the same unit
         */
        void progress(String phase, long done, long total);
    }

    /**
     * What a build wrote.
     *
     * @param added         records added, duplicates included
     * @param entries       entries in the file: distinct keys
     * @param buckets       buckets of the bucket array
     * @param overflowPages overflow pages written
     * @param fileBytes     size of the file
     * @param keyWidth      the file's key width (with variable lengths, its inline key width)
     * @param valueWidth    the file's value width (with variable lengths, its inline value width)
     * @param variableLengths whether the file has variable lengths ({@link Options#variableLengths()})
     * @param recordCells   cells written for the records of out-of-line entries (variable lengths)
     */
    public record Result(long added, long entries, long buckets, long overflowPages, long fileBytes,
                         int keyWidth, int valueWidth, boolean variableLengths, long recordCells) {
        /** Records that were replaced by a later record with the same key. */
        public long replaced() {
            return added - entries;
        }
    }

    private enum State { ADDING, BUILDING, DONE }

    private final Path path;
    private final Options options;
    private final long seed;
    private final BulkFiles files;
    private final FileLocks.Handle temp;
    private boolean wroteDirect;
    private long memory = DEFAULT_MEMORY;
    private boolean fitKeyWidth;
    private boolean fitValueWidth;
    private ProgressListener listener = (phase, done, total) -> { };
    private State state = State.ADDING;

    private ExecutorService worker;
    private ExecutorService allocator;
    private final Arena arena = Arena.ofShared();
    private MemorySegment staging;
    private MemoryRun current;
    private MemoryRun spare;
    private MemoryRun spilling;
    /** The first full run, kept in memory until a second one is full (see {@link #startSpill}). */
    private MemoryRun held;
    private Future<FileRun> spill;
    private final List<FileRun> runs = new ArrayList<>();
    private long added;
    private int longestKey;
    private int longestValue;

    BulkBuilder(Path path, Options options) {
        this.path = path;
        this.options = options;
        this.seed = options.seed().orElseGet(() -> new SecureRandom().nextLong());
        if (Files.exists(path)) {
            throw BulkFiles.alreadyExists(path);
        }
        this.files = BulkFiles.forTarget(path);
        this.temp = FileLocks.acquireTemporary(files.temp, true);
    }

    /**
     * Bounds the memory the build uses for records and buffers, about {@code bytes} (default
     * {@link #DEFAULT_MEMORY}, at least {@link #MIN_MEMORY}). More memory means fewer, longer runs;
     * the build is sequential either way. Call it before the first {@link #add}.
     */
    public BulkBuilder memory(long bytes) {
        if (bytes < MIN_MEMORY) {
            throw HashIndexException.invalidArgument(path, "memory budget of " + bytes
                    + " bytes is below the minimum of " + MIN_MEMORY + " bytes (4 MiB)");
        }
        if (added > 0) {
            throw HashIndexException.invalidArgument(path, "set the memory budget before the first add()");
        }
        memory = bytes;
        return this;
    }

    /**
     * Gives the file the longest key (and/or value) added as its width instead of the width in the
     * {@link Options}, which then only bounds what {@link #add} accepts.
     */
    public BulkBuilder fitWidths(boolean keyWidth, boolean valueWidth) {
        fitKeyWidth = keyWidth;
        fitValueWidth = valueWidth;
        return this;
    }

    /** Receives progress during {@link #build}. */
    public BulkBuilder progress(ProgressListener listener) {
        this.listener = listener;
        return this;
    }

    /**
     * Adds one entry. A later entry with the same key replaces it. The bytes are copied, so the caller
     * may reuse the arrays. Throws {@link HashIndexException.TooLong} for a key or value longer than
     * the widths of the {@link Options}.
     */
    public void add(byte[] key, byte[] value) {
        add(key, 0, key.length, value, 0, value.length);
    }

    /**
     * Adds the entry whose key is {@code keyLength} bytes of {@code key} from {@code keyOffset} and
     * whose value is {@code valueLength} bytes of {@code value} from {@code valueOffset}, as
     * {@link #add(byte[], byte[])} does, so that a reader can hand over slices of its input buffer.
     */
    public void add(byte[] key, int keyOffset, int keyLength, byte[] value, int valueOffset, int valueLength) {
        if (state != State.ADDING) {
            throw HashIndexException.invalidArgument(path, "add() after build() or close()");
        }
        java.util.Objects.checkFromIndexSize(keyOffset, keyLength, key.length);
        java.util.Objects.checkFromIndexSize(valueOffset, valueLength, value.length);
        if (options.variable()) {
            if (keyLength > Options.MAX_VARIABLE_LENGTH) {
                throw HashIndexException.keyTooLongForRecords(path, keyLength);
            }
            if (valueLength > Options.MAX_VARIABLE_LENGTH) {
                throw HashIndexException.valueTooLongForRecords(path, valueLength);
            }
        } else if (keyLength > options.keyWidth()) {
            throw HashIndexException.keyTooLong(path, keyLength, options.keyWidth());
        } else if (valueLength > options.valueWidth()) {
            throw HashIndexException.valueTooLong(path, valueLength, options.valueWidth());
        }
        long hash = Hashing.xxh64(key, keyOffset, keyLength, seed);
        int p = (int) (hash >>> (64 - PARTITION_BITS));
        if (current == null) {
            current = newRun();
        }
        if (!current.append(p, key, keyOffset, keyLength, value, valueOffset, valueLength)) {
            startSpill();
            current.append(p, key, keyOffset, keyLength, value, valueOffset, valueLength);
        }
        added++;
        longestKey = Math.max(longestKey, keyLength);
        longestValue = Math.max(longestValue, valueLength);
    }

    /** Whether {@link #build} wrote the index with O_DIRECT (tests). */
    boolean wroteDirect() {
        return wroteDirect;
    }

    /** The temporary file the index is written to before it gets its name (tests). */
    Path temporaryFile() {
        return files.temp;
    }

    /** Records added so far. */
    public long added() {
        return added;
    }

    private MemoryRun newRun() {
        return new MemoryRun(PARTITIONS, memory * 3 / 8, allocator());
    }

    private long bufferBytes() {
        return Math.clamp(memory / 16, 64L << 10, MAX_BUFFER);
    }

    /**
     * The current run is full. The first time, it is kept in memory as it is ({@link #held}) and the
     * records go on into a second run: a build whose records fit in two runs never writes a run file.
     * When the second run is full too, the held run is spilled first, waiting for it (once per build),
     * and from then on each full run is spilled by the worker thread while the records go on into the
     * other one.
     */
    private void startSpill() {
        if (runs.isEmpty() && spill == null && held == null) {
            held = current;
            current = newRun();
            return;
        }
        if (held != null) {
            MemoryRun first = held;
            held = null;
            Path firstPath = files.nextRun();
            MemorySegment buffer = spillBuffer();
            spilling = first;
            spill = worker().submit(() -> FileRun.spill(first, PARTITIONS, firstPath, buffer));
        }
        finishSpill();
        MemoryRun full = current;
        current = spare != null ? spare : newRun();
        spare = null;
        Path runPath = files.nextRun();
        MemorySegment buffer = spillBuffer();
        spilling = full;
        spill = worker().submit(() -> FileRun.spill(full, PARTITIONS, runPath, buffer));
    }

    private MemorySegment spillBuffer() {
        if (staging == null) {
            staging = arena.allocate(bufferBytes(), 8);
        }
        return staging;
    }

    /** Waits for the spill in progress, if any; its memory run becomes the spare. */
    private void finishSpill() {
        if (spill == null) {
            return;
        }
        FileRun run = await(spill);
        spill = null;
        runs.add(run);
        spilling.clear();
        spare = spilling;
        spilling = null;
    }

    /** The thread that allocates the runs' next slabs ahead of need (never behind a spill on the worker). */
    private ExecutorService allocator() {
        if (allocator == null) {
            allocator = daemonThread("hashidx-bulk-alloc " + path.getFileName());
        }
        return allocator;
    }

    private ExecutorService worker() {
        if (worker == null) {
            worker = daemonThread("hashidx-bulk " + path.getFileName());
        }
        return worker;
    }

    /** An executor of one daemon thread named {@code name}: a build's threads never keep the JVM alive. */
    static ExecutorService daemonThread(String name) {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    private static <T> T await(Future<T> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building " + e, e);
        }
    }

    /**
     * Writes the file and gives it its name; returns what was written. On any failure the target is
     * not created and every temporary file is deleted.
     */
    public Result build() {
        if (state != State.ADDING) {
            throw HashIndexException.invalidArgument(path, "build() after build() or close()");
        }
        state = State.BUILDING;
        try {
            listener.progress("partitioning", added - (spilling == null ? 0 : spilling.records()), added);
            finishSpill();
            listener.progress("partitioning", added, added);
            if (spare != null) {
                spare.close();
                spare = null;
            }
            Result result = write();
            state = State.DONE;
            return result;
        } finally {
            if (state != State.DONE) {
                abandon();
            }
            release();
        }
    }

    private Result write() {
        // a variable-length file keeps the inline widths of its options: there is nothing to fit
        boolean variable = options.variable();
        int keyWidth = fitKeyWidth && !variable ? longestKey : options.keyWidth();
        int valueWidth = fitValueWidth && !variable ? longestValue : options.valueWidth();
        long presized = Math.max(options.expectedEntries(), added);
        long buckets = presized > 0 ? Table.bucketsFor(presized) : 1;
        long reserve = presized > 0 ? Table.overflowReserveFor(buckets) : 0;
        Header h = FileSetup.newHeader(path, keyWidth, valueWidth, options.chunkSize(), seed);
        if (variable) {
            FileSetup.markVariable(h);
        }
        BucketLayout layout = new BucketLayout(keyWidth, valueWidth, options.chunkSize(), variable);
        List<BulkRun> sources = new ArrayList<>(runs);
        if (held != null) {
            sources.add(held);
        }
        if (current != null && !current.isEmpty()) {
            sources.add(current);
        }
        long[] partitionBytes = new long[PARTITIONS];
        for (BulkRun run : sources) {
            for (int p = 0; p < PARTITIONS; p++) {
                partitionBytes[p] += run.bytes(p);
            }
        }
        // a batch of at most 4 MiB: the writer reads its records in bucket order, at random in the batch, and
        // 4 MiB stay within the second-level cache and the TLB (16 MiB: the build phase 0.50-0.54 s for 10M
        // entries of 16/16 bytes, 4 MiB: 0.39-0.59 s; 1 MiB no better)
        long batchTarget = Math.clamp(memory / 8, 256L << 10, 4L << 20);
        BulkBatch end = new BulkBatch(seed);
        List<BulkBatch> batches = List.of(new BulkBatch(seed), new BulkBatch(seed));
        LinkedBlockingQueue<BulkBatch> free = new LinkedBlockingQueue<>(batches);
        LinkedBlockingQueue<BulkBatch> full = new LinkedBlockingQueue<>();
        AtomicLong written = new AtomicLong();
        BulkFiles.Direct direct = files.openDirect(temp); // closed when temp is released
        wroteDirect = direct.usable();
        try (BulkWriter writer = new BulkWriter(files.temp, temp.channel(), direct.usable() ? direct.channel() : null,
                direct.block(), layout, buckets, bufferBytes());
             BulkBatch.Carry carry = new BulkBatch.Carry()) {
            Future<?> writing = worker().submit(() -> {
                for (BulkBatch b = full.take(); b != end; b = full.take()) {
                    writer.write(b);
                    written.set(b.endBucket);
                    free.add(b);
                }
                return null;
            });
            try {
                long firstBucket = 0;
                for (int from = 0; from < PARTITIONS; ) {
                    int to = from;
                    long bytes = 0;
                    do {
                        bytes += partitionBytes[to++];
                    } while (to < PARTITIONS && bytes < batchTarget);
                    BulkBatch batch = nextFree(free, writing, written, buckets);
                    batch.reset(carry.used + bytes);
                    batch.takeCarry(carry);
                    for (BulkRun run : sources) {
                        batch.used += run.copyPartitions(from, to, batch.records, batch.used);
                    }
                    long endBucket = to == PARTITIONS ? buckets
                            : Hashing.bucketIndex((long) to << (64 - PARTITION_BITS), buckets);
                    batch.sortAndDeduplicate(firstBucket, endBucket, buckets, carry);
                    full.add(batch);
                    listener.progress("writing", Math.min(written.get(), buckets - 1), buckets);
                    firstBucket = endBucket;
                    from = to;
                }
            } finally {
                full.add(end);
                getQuietly(writing); // the writer must be done with the buffers before they are freed
            }
            await(writing);
            closeRuns();
            writer.finish(h, reserve);
            long fileBytes = layout.endOfCells(h.allocatedCells);
            listener.progress("writing", buckets, buckets);
            files.publish();
            return new Result(added, writer.entries(), buckets, writer.overflowPages(), fileBytes, keyWidth, valueWidth,
                    variable, writer.recordCells());
        } finally {
            for (BulkBatch b : batches) {
                b.close();
            }
        }
    }

    /**
     * Waits for {@code task} to end, through interrupts (the thread's interrupt status is set again
     * afterwards); its result, or null if it failed or was cancelled (the caller reports that).
     */
    static <T> T getQuietly(Future<T> task) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                    return null;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The next batch the writer is done with; reports progress while waiting, and the writer's failure. */
    private BulkBatch nextFree(LinkedBlockingQueue<BulkBatch> free, Future<?> writing,
                               AtomicLong written, long buckets) {
        try {
            while (true) {
                BulkBatch b = free.poll(200, TimeUnit.MILLISECONDS);
                if (b != null) {
                    return b;
                }
                if (writing.isDone()) {
                    await(writing);
                    throw new IllegalStateException("the writer stopped before the last batch");
                }
                listener.progress("writing", Math.min(written.get(), buckets - 1), buckets);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building " + path, e);
        }
    }

    private void closeRuns() {
        for (FileRun r : runs) {
            r.close();
        }
        runs.clear();
    }

    /** Deletes everything this build wrote. */
    private void abandon() {
        if (spill != null) {
            try {
                runs.add(spill.get());
            } catch (ExecutionException | InterruptedException | java.util.concurrent.CancellationException e) {
                // the spill failed or never ran: it deleted its own file
            }
            spill = null;
        }
        closeRuns();
        BulkFiles.deleteQuietly(files.temp);
    }

    /** Stops the worker, frees the memory and unlocks the temporary file. */
    private void release() {
        try {
            if (worker != null) {
                worker.shutdown();
                try {
                    worker.awaitTermination(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            for (MemoryRun r : new MemoryRun[] {current, spare, spilling, held}) {
                if (r != null) {
                    r.close();
                }
            }
            if (allocator != null) {
                allocator.shutdown(); // the runs waited for their slabs allocated ahead: it is idle
            }
            current = null;
            spare = null;
            spilling = null;
            held = null;
            arena.close();
        } finally {
            temp.release();
        }
    }

    /** Abandons a build that was not finished: the target is not created and the temporary files are deleted. */
    @Override
    public void close() {
        if (state == State.ADDING) {
            state = State.DONE;
            abandon();
            release();
        }
    }

}
