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
 * A persistent hash index in one memory-mapped file: byte-string keys and values up to fixed widths, or
 * of any length up to 16 MiB ({@link Options#variableLengths()}), Go's map design on disk (8-slot
 * buckets, overflow pages, doubling with incremental evacuation).
 *
 * <pre>{@code
 * try (HashIndex idx = HashIndex.create(Path.of("docs.hidx"))) {    // variable lengths, the default
 *     idx.put(key, value);
 *     byte[] v = idx.get(key);
 * }
 * try (HashIndex idx = HashIndex.create(Path.of("names.hidx"), Options.widths(16, 64).expectedEntries(1_000_000))) {
 *     idx.put(key, value);                                            // fixed widths: at most 16 and 64 bytes
 * }
 * }</pre>
 *
 * <ul>
 *   <li>Keys and values are byte strings up to the file's widths (up to 16 MiB each with variable
 *       lengths); their length is stored, so {@code "ab"} and {@code "ab\0"} are different keys. The
 *       empty key is a valid key.
 *   <li>Thread-safe. Lookups ({@link #get}, {@link #contains}, {@link #size}) take no lock and write no
 *       shared memory: each bucket carries a version (a sequence lock) and a lookup that saw a writer
 *       inside, or a version or geometry that changed while it read, reads again (see {@link Table}).
 *       Writers on different buckets run in parallel: each locks the stripes of the hash space its
 *       bucket covers and evacuates a growth's old buckets as it goes. Iterators are weakly consistent.
 *       One process writes a file at a time, and any number of other processes may read it meanwhile
 *       with {@link #openReadOnly}: they follow its growth and never see a value half written
 *       (FORMAT.md section 11).
 *   <li>Every completed operation survives the process being killed. {@link #sync()} forces the pages
 *       to the disk; durability against power loss is not promised yet (see FORMAT.md, "Crash safety").
 * </ul>
 */
public final class HashIndex implements AutoCloseable, Iterable<Map.Entry<byte[], byte[]>> {
    private final Path path;
    private final MappedFile file;
    private final Table table;
    /**
     * The table's geometry lock ({@link Table#geo}): in a read-only index, reads of the header again
     * take it exclusively and reads beside a writer process shared.
     */
    private final java.util.concurrent.locks.ReentrantReadWriteLock lock;
    private final boolean readOnly;

    private HashIndex(Path path, MappedFile file, Table table) {
        this.path = path;
        this.file = file;
        this.table = table;
        this.lock = table.geo;
        this.readOnly = !file.writable();
    }

    /**
     * Creates a new index file with the default options: variable lengths ({@link Options#variableLengths()},
     * keys and values of up to 16 MiB each) and a random seed; fails if the file exists.
     */
    public static HashIndex create(Path path) {
        return create(path, Options.variableLengths());
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

    /**
     * The reader table beside {@code index} ({@code NAME.readers}, after following symbolic links): a
     * small lock file in which processes that read the index while another may write it register. It
     * is created when the index is first opened and stays; delete it together with the index.
     */
    public static Path readerTable(Path index) {
        return ReaderTable.pathFor(index);
    }

    /** Opens an existing index for reading and writing; replays the operation a crash cut short. */
    public static HashIndex open(Path path) {
        return open(path, FileLocks.acquire(path, true, false), false, file -> FileSetup.existingFile(path, file, true));
    }

    /**
     * Opens an existing index read-only, also while another process writes it: reads then follow that
     * writer (its growth, the file's extension), and the arrays they may still read are not reused
     * while this index is open (a slot in the reader table {@code NAME.readers} beside the file, created
     * if needed). Where that table cannot be opened for writing (a read-only directory), the file is read
     * only while no process writes it, and writers wait until it is closed. {@link #verify} and
     * {@link #inspect} need the file to hold still: they fail with {@code LOCKED} while a writer is at work.
     */
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
            ReaderTable readers = handle.readers();
            if (file != null) {
                file.close();
            } else {
                handle.release();
            }
            if (creating) {
                try {
                    if (readers != null && readers.created()) {
                        Files.deleteIfExists(readers.path());
                    }
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
        checkWritable();
        return table.put(key, value);
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
     * or the value's length (in a variable-length file, the value's length: up to 16 MiB). Takes no
     * lock; a lookup that has to read again may have written {@code dest} before, so its bytes past the
     * returned length (all of them, when -1 is returned) are unspecified.
     */
    public int get(byte[] key, byte[] dest) {
        checkKey(key);
        checkOpen();
        int len = table.lookup(key, dest, INTO);
        if (len < -1) {
            throw HashIndexException.invalidArgument(path, "destination of " + dest.length
                    + " bytes is too small for a value of " + (-2 - len) + " bytes; pass "
                    + (table.h.variable() ? "at least " + (-2 - len) + " bytes, or use get(key)" : "valueWidth() bytes"));
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
        checkWritable();
        return table.remove(key);
    }

    /** Number of entries. Takes no lock. */
    public long size() {
        checkOpen();
        return table.count();
    }

    /**
     * Iterates from a random bucket and slot, as Go's maps do. Entries present for the whole iteration
     * are returned exactly once, also while the table grows; removed entries are not returned after
     * their removal. Keys and values are copies. A read-only index beside a writer process returns each
     * entry as it was when the iterator read it (a moment during the iteration), and keeps the arrays it
     * walks from being reused until it is finished (or garbage collected).
     */
    @Override
    public Iterator<Map.Entry<byte[], byte[]>> iterator() {
        return iterator(new SecureRandom());
    }

    /** Like {@link #iterator()}, with the start position drawn from {@code random} (tests pass a seeded one). */
    public Iterator<Map.Entry<byte[], byte[]>> iterator(RandomGenerator random) {
        checkOpen();
        if (readOnly) {
            // beside a writer process a step may meet the writer's later changes: it is repeated after
            // the header is read again (readBesideWriter)
            Table.Cursor cursor = readBesideWriter(() -> table.newCursor(random));
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return readBesideWriter(cursor::hasNext);
                }

                @Override
                public Map.Entry<byte[], byte[]> next() {
                    return readBesideWriter(cursor::nextEntry);
                }
            };
        }
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
        checkWritable();
        return table.exclusive(() -> {
            long left = table.h.growing() ? table.h.oldBucketCount - table.h.evacuated : 0;
            table.finishGrowth(Long.MAX_VALUE);
            return left;
        });
    }

    /**
     * Forces every change to the storage device, the file's metadata included (msync, then fsync). A
     * process crash never needs this; it narrows, but does not yet close, what a power loss can lose
     * (FORMAT.md, "Crash safety").
     */
    public void sync() {
        table.exclusive(() -> {
            file.force();
            return null;
        });
    }

    /**
     * What {@link #copyTo} wrote: the file, its entries and bytes, and whether it is the index as it was
     * at one instant ({@code pointInTime}) or a live copy made while another process wrote.
     */
    public record CopyResult(Path path, long entries, long fileBytes, boolean pointInTime) {
    }

    /**
     * Writes a consistent copy of this index to the new file {@code out} (fails if it exists), while
     * other threads and processes go on reading and writing. The copy is written beside {@code out}
     * and renamed into place once complete and forced to the disk. Whatever the case, the copy opens
     * and passes verify. It is the index at one instant ({@code pointInTime}) when this process is the
     * writer (its writes wait for the copy), or when no process is writing (writer processes wait to
     * open until the copy is done). While another process writes, it is a live copy: every entry that
     * no write touches during the copy is in it with its value, and every entry in it holds a value its
     * key had during the copy (README, "Backups").
     */
    public CopyResult copyTo(Path out) {
        if (!readOnly) {
            return read(() -> Backup.pointInTime(path, file, table, out));
        }
        FileLocks.Handle handle = file.handle();
        lock.writeLock().lock();
        boolean downgraded = false;
        try {
            checkOpen();
            if (handle.holdWritersOut()) {
                try {
                    table.refresh();
                    lock.readLock().lock(); // other threads of this process read on while we copy
                    lock.writeLock().unlock();
                    downgraded = true;
                    return Backup.pointInTime(path, file, table, out);
                } finally {
                    handle.letWritersIn();
                }
            }
        } finally {
            if (downgraded) {
                lock.readLock().unlock();
            } else {
                lock.writeLock().unlock();
            }
        }
        Backup.refuseExisting(out);
        return Backup.live(table.h, size(), iterator(), out);
    }

    /**
     * A snapshot of the file's geometry, growth state and space use; scans the whole file (read-only:
     * fails with {@code LOCKED} while another process writes it, as {@link #verify} does).
     */
    public Inspection inspect() {
        return holdingStill("inspect", () -> new Inspector(table).inspect());
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
        return holdingStill("inspect", () -> {
            if (bucket < 0 || bucket >= table.h.bucketCount) {
                throw HashIndexException.invalidArgument(path, "bucket " + bucket + " is out of range; the file has "
                        + table.h.bucketCount + " buckets (0.." + (table.h.bucketCount - 1) + ")");
            }
            return new Inspector(table).inspectBucket(bucket);
        });
    }

    /**
     * Checks every invariant of the file; returns the problems found (empty when the file is sound).
     * Read-only, it keeps writer processes out while it checks, and fails with {@code LOCKED} when one
     * is writing the file (verify a {@link #copyTo copy} instead).
     */
    public List<String> verify() {
        return holdingStill("verify", () -> new Invariants(table).check());
    }

    /**
     * Runs a whole-file scan. Read-only, it keeps writer processes out meanwhile, and fails with
     * {@code LOCKED} when one is writing the file: a scan of a file that changes under it would report
     * states that never were.
     */
    private <T> T holdingStill(String what, java.util.function.Supplier<T> body) {
        if (!readOnly) {
            return read(body);
        }
        lock.writeLock().lock();
        try {
            checkOpen();
            FileLocks.Handle handle = file.handle();
            if (!handle.holdWritersOut()) {
                throw HashIndexException.locked(path, "another process is writing the file, and " + what + " needs it "
                        + "to hold still (use a copy made with copyTo / `hashidx backup`, or stop the writer)");
            }
            try {
                table.refresh();
                table.space.reloadRetired();
                return body.get();
            } finally {
                handle.letWritersIn();
            }
        } finally {
            lock.writeLock().unlock();
        }
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
        table.close(finishSomeGrowth);
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
        table.checkOpen();
    }

    /** Diagnostics see the file with no writer in flight (lock-free readers go on). */
    private <T> T read(java.util.function.Supplier<T> body) {
        if (readOnly) {
            return readBesideWriter(body);
        }
        return table.exclusive(body);
    }

    /**
     * A read-only index may be read while another process writes the file: a read first reads the
     * header again if the writer changed it, and a read that met the writer's later changes (a bucket
     * that changed while it was copied, a link to a page beyond the cells it knows) is repeated after
     * reading the header again. The same failure after a header that did not change is the file's.
     */
    private <T> T readBesideWriter(java.util.function.Supplier<T> body) {
        long failedAt = Long.MIN_VALUE;
        while (true) {
            RuntimeException failure = null;
            lock.readLock().lock();
            try {
                checkOpen();
                if (!table.stale()) {
                    try {
                        return body.get();
                    } catch (Table.Stale e) {
                        // the writer moved on: read the header again below
                    } catch (HashIndexException.FileFormat | IndexOutOfBoundsException e) {
                        failure = e;
                    }
                }
            } finally {
                lock.readLock().unlock();
            }
            lock.writeLock().lock();
            try {
                checkOpen();
                long before = table.h.generation;
                table.refresh();
                if (failure != null) {
                    // the header is as it was and the read failed twice on it: a damaged file, not a writer
                    if (before == table.h.generation && failedAt == before && !table.stale()) {
                        throw failure;
                    }
                    failedAt = table.h.generation;
                }
            } finally {
                lock.writeLock().unlock();
            }
            Thread.onSpinWait();
        }
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
