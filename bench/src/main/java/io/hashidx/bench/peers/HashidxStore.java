package io.hashidx.bench.peers;

import io.hashidx.bench.KeyValueStore;
import io.hashidx.bench.Keys;
import io.hashidx.store.BulkBuilder;
import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.nio.file.Path;

/**
 * hashidx as its README shows it: {@code HashIndex.create} with the fixed key and value widths and,
 * when presized, the expected entry count; gets copy into the caller's buffer (no allocation);
 * {@code sync()} forces the file. No JVM flags.
 *
 * <p>The fastest load of a new file is the bulk builder ({@code HashIndex.bulkBuilder}, as {@code
 * hashidx load} uses it), so a store created presized makes its file on first use: {@link #bulkLoad}
 * builds it with the builder (memory budget {@value #BULK_MEMORY_MIB} MiB, the builder's two threads;
 * the file is forced to the disk before it gets its name), any other operation creates it presized.
 */
public final class HashidxStore implements KeyValueStore {
    /** The index file inside a store directory. */
    public static final String FILE = "index.hidx";
    /** The bulk builder's memory budget in the bulk load. */
    public static final int BULK_MEMORY_MIB = 512;
    /**
     * {@code -Dhashidx.bench.load=puts}: load a presized store with puts instead (into a file created
     * presized), to measure gets on a file written through the mapping; use its own files directory
     * ({@code HASHIDX_BENCH_FILES}), since prepared files are reused (bench/README.md, "Gets and the page cache").
     */
    static final boolean LOAD_BY_PUTS = "puts".equals(System.getProperty("hashidx.bench.load"));

    private final Path path;
    private final Options options;
    /** Null while a presized store has not made its file yet. */
    private HashIndex index;

    private HashidxStore(Path path, Options options, HashIndex index) {
        this.path = path;
        this.options = options;
        this.index = index;
    }

    public static HashidxStore create(Path dir, long expectedEntries) {
        Path path = dir.resolve(FILE);
        Options options = Options.widths(16, 16);
        if (expectedEntries > 0) {
            return new HashidxStore(path, options.expectedEntries(expectedEntries), null);
        }
        return new HashidxStore(path, options, HashIndex.create(path, options));
    }

    public static HashidxStore open(Path dir) {
        Path path = dir.resolve(FILE);
        return new HashidxStore(path, null, HashIndex.open(path));
    }

    private HashIndex index() {
        HashIndex i = index;
        if (i == null) {
            i = index = HashIndex.create(path, options);
        }
        return i;
    }

    /** Keys {@code 0 .. n-1} through the bulk builder into a new file; into an existing one, one put each. */
    @Override
    public void bulkLoad(int n) {
        if (index != null || LOAD_BY_PUTS) {
            KeyValueStore.super.bulkLoad(n); // the first put creates a presized file
            return;
        }
        byte[] key = new byte[Keys.KEY_BYTES];
        byte[] value = new byte[Keys.VALUE_BYTES];
        try (BulkBuilder b = HashIndex.bulkBuilder(path, options).memory((long) BULK_MEMORY_MIB << 20)) {
            for (int i = 0; i < n; i++) {
                Keys.key(i, key);
                Keys.value(i, 0, value);
                b.add(key, value);
            }
            b.build();
        }
        index = HashIndex.open(path);
    }

    @Override
    public boolean get(byte[] key, byte[] value) {
        return index().get(key, value) >= 0;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        index().put(key, value);
    }

    @Override
    public void sync() {
        index().sync();
    }

    @Override
    public void close() {
        if (index != null) {
            index.close();
        }
    }
}
