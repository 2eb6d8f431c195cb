package io.hashidx.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BiConsumer;
import java.util.random.RandomGenerator;

/**
 * A persistent hash index in one memory-mapped file: fixed-width byte-string keys and values, Go's
 * map design on disk (8-slot buckets, overflow pages, doubling with incremental evacuation).
 *
 * <pre>{@code
 * try (HashIndex idx = HashIndex.create(Path.of("names.hidx"), Options.widths(16, 64).expectedEntries(1_000_000))) {
 *     idx.put(key, value);
 *     byte[] v = idx.get(key);
 * }
 * }</pre>
 *
 * <ul>
 *   <li>Keys and values are byte strings up to the file's widths; their length is stored, so
 *       {@code "ab"} and {@code "ab\0"} are different keys. The empty key is a valid key.
 *   <li>Thread-safe: many readers or one writer at a time. One process writes a file at a time.
 *   <li>Every completed operation survives the process being killed. {@link #sync()} forces the pages
 *       to the disk; durability against power loss is not promised yet (see FORMAT.md, "Crash safety").
 * </ul>
 */
public final class HashIndex implements AutoCloseable, Iterable<Map.Entry<byte[], byte[]>> {
    private final Path path;
    private final MappedFile file;
    private final Table table;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final boolean readOnly;
    private volatile boolean closed;

    private HashIndex(Path path, MappedFile file, Table table) {
        this.path = path;
        this.file = file;
        this.table = table;
        this.readOnly = !file.writable();
    }

    /** Creates a new index file; fails if the file exists. */
    public static HashIndex create(Path path, Options options) {
        long seed = options.seed().orElseGet(() -> new SecureRandom().nextLong());
        return open(path, FileLocks.acquire(path, true, true), true,
                file -> FileSetup.newFile(path, file, options, seed));
    }

    /**
     * A builder that writes a new index file from many entries at once: sequentially, using two
     * threads and a bounded amount of memory, and much faster than puts once the file is larger than
     * memory. The file appears at {@code path} only when it is complete; fails if it exists.
     * See {@link BulkBuilder}.
     */
    public static BulkBuilder bulkBuilder(Path path, Options options) {
        return new BulkBuilder(path, options);
    }

    /** Opens an existing index for reading and writing; replays the operation a crash cut short. */
    public static HashIndex open(Path path) {
        return open(path, FileLocks.acquire(path, true, false), false, file -> FileSetup.existingFile(path, file, true));
    }

    /** Opens an existing index read-only; never takes the write lock. */
    public static HashIndex openReadOnly(Path path) {
        return open(path, FileLocks.acquire(path, false, false), false,
                file -> FileSetup.existingFile(path, file, false));
    }

    /** Maps the locked file and reads or lays out its header; on failure releases everything (and deletes a new file). */
    private static HashIndex open(Path path, FileLocks.Handle handle, boolean creating,
                                  java.util.function.Function<MappedFile, Header> setup) {
        MappedFile file = null;
        try {
            file = new MappedFile(path, handle, creating);
            return new HashIndex(path, file, new Table(setup.apply(file), file));
        } catch (RuntimeException e) {
            if (file != null) {
                file.close();
            } else {
                handle.release();
            }
            if (creating) {
                try {
                    Files.deleteIfExists(path);
                } catch (java.io.IOException ignored) {
                    // the error being thrown matters more than the leftover file
                }
            }
            throw e;
        }
    }

    /** Stores {@code value} under {@code key}; returns true when it replaced a value. */
    public boolean put(byte[] key, byte[] value) {
        checkKey(key);
        if (value.length > table.h.valueWidth) {
            throw HashIndexException.valueTooLong(path, value.length, table.h.valueWidth);
        }
        return write(() -> table.put(key, value));
    }

    /** The value stored under {@code key}, or null. */
    public byte[] get(byte[] key) {
        checkKey(key);
        lock.readLock().lock();
        try {
            checkOpen();
            long ref = table.find(key);
            return ref < 0 ? null : table.value(ref);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Copies the value stored under {@code key} into {@code dest} without allocating; returns its
     * length, or -1 when the key is absent. {@code dest} must hold at least {@link #valueWidth()} bytes
     * or the value's length.
     */
    public int get(byte[] key, byte[] dest) {
        checkKey(key);
        lock.readLock().lock();
        try {
            checkOpen();
            long ref = table.find(key);
            if (ref < 0) {
                return -1;
            }
            int len = table.valueLength(ref);
            if (len > dest.length) {
                throw HashIndexException.invalidArgument(path, "destination of " + dest.length
                        + " bytes is too small for a value of " + len + " bytes; pass valueWidth() bytes");
            }
            table.copyValue(ref, dest, len);
            return len;
        } finally {
            lock.readLock().unlock();
        }
    }

    public boolean contains(byte[] key) {
        checkKey(key);
        lock.readLock().lock();
        try {
            checkOpen();
            return table.find(key) >= 0;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Removes {@code key}; returns true when it was present. */
    public boolean remove(byte[] key) {
        checkKey(key);
        return write(() -> table.remove(key));
    }

    /** Number of entries. */
    public long size() {
        lock.readLock().lock();
        try {
            checkOpen();
            return table.count();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Iterates from a random bucket and slot, as Go's maps do. Entries present for the whole iteration
     * are returned exactly once, also while the table grows; removed entries are not returned after
     * their removal. Keys and values are copies.
     */
    @Override
    public Iterator<Map.Entry<byte[], byte[]>> iterator() {
        return iterator(new SecureRandom());
    }

    /** Like {@link #iterator()}, with the start position drawn from {@code random} (tests pass a seeded one). */
    public Iterator<Map.Entry<byte[], byte[]>> iterator(RandomGenerator random) {
        lock.readLock().lock();
        try {
            checkOpen();
            Table.Cursor cursor = table.new Cursor(random);
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return read(cursor::hasNext);
                }

                @Override
                public Map.Entry<byte[], byte[]> next() {
                    return read(cursor::nextEntry);
                }
            };
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Calls {@code action} for every entry (see {@link #iterator()}). */
    public void forEach(BiConsumer<byte[], byte[]> action) {
        for (Iterator<Map.Entry<byte[], byte[]>> it = iterator(); it.hasNext(); ) {
            Map.Entry<byte[], byte[]> e = it.next();
            action.accept(e.getKey(), e.getValue());
        }
    }

    /**
     * Makes room for {@code expectedEntries} entries in all, so that loading a known number of entries
     * into a file that holds some already does not double it over and over: the file is extended once,
     * to the array that holds them (2^k times the current one) and the overflow pages a presized file
     * sets aside, and a growth to that array starts; the entries move over incrementally, as in any
     * growth (two old buckets per write; {@link #finishGrowth()} moves the rest). A growth under way
     * is finished first. Returns false, and changes nothing, when the file is large enough already.
     * Throws {@code DISK_FULL} before changing anything when the disk cannot hold the larger file.
     */
    public boolean reserve(long expectedEntries) {
        if (expectedEntries < 0 || expectedEntries > 1L << 56) {
            throw HashIndexException.invalidArgument(path, "expected entries " + expectedEntries
                    + " is negative or beyond any file (at most 2^56)");
        }
        return write(() -> table.reserve(expectedEntries) > 0);
    }

    /**
     * Evacuates every old bucket of a growth in progress, so a table loaded once and then only read
     * does not stay half-grown. Returns the number of old buckets that were left.
     */
    public long finishGrowth() {
        return write(() -> {
            long left = table.h.growing() ? table.h.oldBucketCount - table.h.evacuated : 0;
            table.finishGrowth(Long.MAX_VALUE);
            return left;
        });
    }

    /**
     * Forces every change to the storage device. A process crash never needs this; it narrows, but
     * does not yet close, what a power loss can lose (FORMAT.md, "Crash safety").
     */
    public void sync() {
        lock.writeLock().lock();
        try {
            checkOpen();
            file.force();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** A snapshot of the file's geometry, growth state and space use; scans the whole file. */
    public Inspection inspect() {
        return read(() -> new Inspector(table).inspect());
    }

    /**
     * The growth under way, as {@code inspect().growth()} reports it but without scanning the file:
     * cheap enough to call after every operation (the first call after an open counts the evacuated
     * old buckets once, one byte per old bucket).
     */
    public Inspection.Growth growth() {
        return read(table::growth);
    }

    /**
     * Bucket {@code bucket} of the current array with every page of its overflow chain, slot by slot,
     * and, while growing, the old bucket its entries come from when that one is not yet evacuated.
     */
    public BucketView inspectBucket(long bucket) {
        return read(() -> {
            if (bucket < 0 || bucket >= table.h.bucketCount) {
                throw HashIndexException.invalidArgument(path, "bucket " + bucket + " is out of range; the file has "
                        + table.h.bucketCount + " buckets (0.." + (table.h.bucketCount - 1) + ")");
            }
            return new Inspector(table).inspectBucket(bucket);
        });
    }

    /** Checks every invariant of the file; returns the problems found (empty when the file is sound). */
    public List<String> verify() {
        return read(() -> new Invariants(table).check());
    }

    public Path path() {
        return path;
    }

    public int keyWidth() {
        return table.h.keyWidth;
    }

    public int valueWidth() {
        return table.h.valueWidth;
    }

    /** The file's hash seed: a file created with {@code Options.seed(seed())} and the same puts has the same layout. */
    public long seed() {
        return table.h.seed;
    }

    /**
     * What {@link #create} with {@code options} lays out, computed with the engine's own sizing rules
     * and without touching a file: bucket count, overflow pages set aside, file size and page size.
     */
    public static Plan plan(Options options) {
        int stride = BucketLayout.strideFor(options.keyWidth(), options.valueWidth());
        long buckets = options.expectedEntries() > 0 ? Table.bucketsFor(options.expectedEntries()) : 1;
        long reserve = options.expectedEntries() > 0 ? Table.overflowReserveFor(buckets) : 0;
        long cells = 1 + buckets + reserve; // the journal cell, the bucket array, the reserve
        return new Plan(buckets, reserve, BucketLayout.endOfCells(cells, stride, options.chunkSize()), stride);
    }

    public boolean isReadOnly() {
        return readOnly;
    }

    /**
     * Evacuates a bounded number of old buckets of a growth in progress (the rest continues after the
     * next open), frees retired space and closes the file. Does not force pages to disk: see {@link #sync()}.
     */
    @Override
    public void close() {
        close(true);
    }

    /** Tests close mid-growth with this, to prove that reopening carries on where growth stopped. */
    void closeLeavingGrowth() {
        close(false);
    }

    private void close(boolean finishSomeGrowth) {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                if (finishSomeGrowth) {
                    table.closing();
                }
            } finally {
                file.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The engine, for tests in this package. */
    Table table() {
        return table;
    }

    // ---- internals ----

    private void checkKey(byte[] key) {
        if (key.length > table.h.keyWidth) {
            throw HashIndexException.keyTooLong(path, key.length, table.h.keyWidth);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw HashIndexException.closed(path);
        }
    }

    private <T> T read(java.util.function.Supplier<T> body) {
        lock.readLock().lock();
        try {
            checkOpen();
            return body.get();
        } finally {
            lock.readLock().unlock();
        }
    }

    private <T> T write(java.util.function.Supplier<T> body) {
        lock.writeLock().lock();
        try {
            checkOpen();
            if (readOnly) {
                throw HashIndexException.readOnly(path);
            }
            return body.get();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
