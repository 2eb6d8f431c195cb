package io.hashidx.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
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
 *   <li>Thread-safe. Lookups ({@link #get}, {@link #contains}, {@link #size}) take no lock and write no
 *       shared memory: each bucket carries a version (a sequence lock) and a lookup that saw a writer
 *       inside, or a version or geometry that changed while it read, reads again (see {@link Table}).
 *       Writers on different buckets run in parallel: each locks the stripes of the hash space its
 *       bucket covers and evacuates a growth's old buckets as it goes. Iterators are weakly consistent.
 *       One process writes a file at a time.
 *   <li>Every completed operation survives the process being killed. {@link #sync()} forces the pages
 *       to the disk; durability against power loss is not promised yet (see FORMAT.md, "Crash safety").
 * </ul>
 */
public final class HashIndex implements AutoCloseable, Iterable<Map.Entry<byte[], byte[]>> {
    private final Path path;
    private final MappedFile file;
    private final Table table;
    private final boolean readOnly;

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

    private static final Table.ValueReader<byte[]> VALUE = (t, ref, dest) -> ref < 0 ? null : t.value(ref);
    private static final Table.ValueReader<Boolean> PRESENT = (t, ref, dest) -> ref >= 0;
    /** The value's length, copied into dest when it fits; -1 when absent, -2 - length when dest is too small. */
    private static final Table.ValueReader<Integer> INTO = (t, ref, dest) -> {
        if (ref < 0) {
            return -1;
        }
        int len = t.valueLength(ref);
        if (len > dest.length) {
            return -2 - len;
        }
        t.copyValue(ref, dest, len);
        return len;
    };

    /** The value stored under {@code key}, or null. Takes no lock (see the class comment). */
    public byte[] get(byte[] key) {
        checkKey(key);
        checkOpen();
        return table.lookup(key, null, VALUE);
    }

    /**
     * Copies the value stored under {@code key} into {@code dest} without allocating; returns its
     * length, or -1 when the key is absent. {@code dest} must hold at least {@link #valueWidth()} bytes
     * or the value's length. Takes no lock; a lookup that has to read again may have written
     * {@code dest} before, so its bytes past the returned length (all of them, when -1 is returned)
     * are unspecified.
     */
    public int get(byte[] key, byte[] dest) {
        checkKey(key);
        checkOpen();
        int len = table.lookup(key, dest, INTO);
        if (len < -1) {
            throw HashIndexException.invalidArgument(path, "destination of " + dest.length
                    + " bytes is too small for a value of " + (-2 - len) + " bytes; pass valueWidth() bytes");
        }
        return len;
    }

    public boolean contains(byte[] key) {
        checkKey(key);
        checkOpen();
        return table.lookup(key, null, PRESENT);
    }

    /** Removes {@code key}; returns true when it was present. */
    public boolean remove(byte[] key) {
        checkKey(key);
        return write(() -> table.remove(key));
    }

    /** Number of entries. Takes no lock. */
    public long size() {
        checkOpen();
        return table.count();
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
        checkOpen();
        Table.Cursor cursor = table.newCursor(random);
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return cursor.hasNext();
            }

            @Override
            public Map.Entry<byte[], byte[]> next() {
                return cursor.nextEntry();
            }
        };
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
        checkWritable();
        return table.exclusive(() -> {
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
        table.exclusive(() -> {
            file.force();
            return null;
        });
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
        table.close(finishSomeGrowth);
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
        table.checkOpen();
    }

    /** Diagnostics see the file with no writer in flight (lock-free readers go on). */
    private <T> T read(java.util.function.Supplier<T> body) {
        return table.exclusive(body);
    }

    private void checkWritable() {
        checkOpen();
        if (readOnly) {
            throw HashIndexException.readOnly(path);
        }
    }

    /** A write: the table takes its own locks (the stripes of the key's bucket, see {@link Table}). */
    private <T> T write(java.util.function.Supplier<T> body) {
        checkWritable();
        return body.get();
    }
}
