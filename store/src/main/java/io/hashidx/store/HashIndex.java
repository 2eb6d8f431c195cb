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
 * A persistent hash index in one memory-mapped file: byte-string keys and values up to fixed widths, or
 * of any length up to 16 MiB ({@link Options#variableLengths()}), Go's map design on disk (8-slot
 * buckets, overflow pages, doubling with incremental evacuation).
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
        if (options.variable()) {
            throw HashIndexException.invalidArgument(path, "the bulk builder writes fixed-width files only; "
                    + "create a variable-length file with HashIndex.create and put the entries, or give widths");
        }
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
        checkValue(value);
        return write(() -> table.put(key, value));
    }

    /**
     * Stores {@code value} under {@code key} only if the key is absent, atomically; returns the value
     * present (which stays), or null when {@code value} was stored.
     */
    public byte[] putIfAbsent(byte[] key, byte[] value) {
        checkKey(key);
        checkValue(value);
        return write(() -> table.put(key, value, true, true));
    }

    /** Replaces the value of {@code key} only if the key is present, atomically; returns the value replaced, or null. */
    public byte[] replace(byte[] key, byte[] value) {
        checkKey(key);
        checkValue(value);
        return write(() -> table.replace(key, null, value));
    }

    /**
     * Replaces the value of {@code key} only if it is present with the same bytes as {@code expected},
     * atomically; returns true when it replaced.
     */
    public boolean replace(byte[] key, byte[] expected, byte[] value) {
        checkKey(key);
        java.util.Objects.requireNonNull(expected, "expected");
        checkValue(value);
        return write(() -> table.replace(key, expected, value)) != null;
    }

    /** Removes {@code key} only if it is present with the same bytes as {@code expected}, atomically; true when removed. */
    public boolean remove(byte[] key, byte[] expected) {
        checkKey(key);
        java.util.Objects.requireNonNull(expected, "expected");
        return write(() -> table.remove(key, expected, false)) != null;
    }

    /**
     * A {@link java.util.concurrent.ConcurrentMap} view of this index that turns keys and values into
     * bytes with the given codecs (see {@link Codec}). Every operation is one operation on the index
     * (the conditional ones are atomic); {@code keySet}, {@code values} and {@code entrySet} are backed
     * by it, and their iterators are this index's weakly consistent iterator. Null keys and values are
     * refused with NullPointerException, as ConcurrentHashMap does. The view is valid until the index
     * is closed.
     */
    public <K, V> java.util.concurrent.ConcurrentMap<K, V> asMap(Codec<K> keyCodec, Codec<V> valueCodec) {
        return new MapView<>(this, keyCodec, valueCodec);
    }

    /** Stores {@code value} under {@code key}; returns the value replaced (a copy), or null. */
    byte[] putReturningPrevious(byte[] key, byte[] value) {
        checkKey(key);
        checkValue(value);
        return write(() -> table.put(key, value, false, true));
    }

    /** Removes {@code key}; returns the value removed (a copy), or null. */
    byte[] removeReturningPrevious(byte[] key) {
        checkKey(key);
        return write(() -> table.remove(key, null, true));
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
     * or the value's length (in a variable-length file, the value's length: up to 16 MiB).
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
                        + " bytes is too small for a value of " + len + " bytes; pass "
                        + (table.h.variable() ? "at least " + len + " bytes, or use get(key)" : "valueWidth() bytes"));
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

    /** The key width of a fixed-width file; in a variable-length file, the longest key held inline. */
    public int keyWidth() {
        return table.h.keyWidth;
    }

    /** Whether keys and values have any length up to 16 MiB ({@link Options#variableLengths()}). */
    public boolean variableLengths() {
        return table.h.variable();
    }

    /** The value width of a fixed-width file; in a variable-length file, the longest value held inline. */
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
        if (key.length > maxKeyLength()) {
            throw table.h.variable() ? HashIndexException.keyTooLongForRecords(path, key.length)
                    : HashIndexException.keyTooLong(path, key.length, table.h.keyWidth);
        }
    }

    /** The longest key this file takes: its key width, or 16 MiB in a variable-length file. */
    public int maxKeyLength() {
        return table.h.variable() ? Options.MAX_VARIABLE_LENGTH : table.h.keyWidth;
    }

    /** The longest value this file takes: its value width, or 16 MiB in a variable-length file. */
    public int maxValueLength() {
        return table.h.variable() ? Options.MAX_VARIABLE_LENGTH : table.h.valueWidth;
    }

    private void checkValue(byte[] value) {
        if (value.length > maxValueLength()) {
            throw table.h.variable() ? HashIndexException.valueTooLongForRecords(path, value.length)
                    : HashIndexException.valueTooLong(path, value.length, table.h.valueWidth);
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
