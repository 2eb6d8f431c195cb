package io.hashidx.bench.peers;

import io.hashidx.bench.KeyValueStore;
import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.nio.file.Path;

/**
 * hashidx as its README shows it: {@code HashIndex.create} with the fixed key and value widths and,
 * when presized, the expected entry count; gets copy into the caller's buffer (no allocation);
 * {@code sync()} forces the file. No JVM flags.
 */
public final class HashidxStore implements KeyValueStore {
    /** The index file inside a store directory. */
    public static final String FILE = "index.hidx";

    private final HashIndex index;

    private HashidxStore(HashIndex index) {
        this.index = index;
    }

    public static HashidxStore create(Path dir, long expectedEntries) {
        Options options = Options.widths(16, 16);
        if (expectedEntries > 0) {
            options = options.expectedEntries(expectedEntries);
        }
        return new HashidxStore(HashIndex.create(dir.resolve(FILE), options));
    }

    public static HashidxStore open(Path dir) {
        return new HashidxStore(HashIndex.open(dir.resolve(FILE)));
    }

    @Override
    public boolean get(byte[] key, byte[] value) {
        return index.get(key, value) >= 0;
    }

    @Override
    public void put(byte[] key, byte[] value) {
        index.put(key, value);
    }

    @Override
    public void sync() {
        index.sync();
    }

    @Override
    public void close() {
        index.close();
    }
}
