package io.hashidx.bench;

/**
 * One peer, opened on one data set: the operations every workload is written against. Each
 * implementation in {@code io.hashidx.bench.peers} uses its library the way that library's own
 * documentation recommends and says how in its Javadoc; keys and values are the 16-byte arrays of
 * {@link Keys}.
 */
public interface KeyValueStore extends AutoCloseable {
    /** Copies the value of {@code key} into {@code value} and returns true, or returns false when absent. */
    boolean get(byte[] key, byte[] value);

    /** Stores {@code value} under {@code key}, inserting or overwriting. */
    void put(byte[] key, byte[] value);

    /**
     * Loads keys {@code 0 .. n-1} of {@link Keys} into this (empty) store as fast as the library
     * allows; by default one put each, in index order. LMDB sorts and appends, RocksDB writes batches.
     */
    default void bulkLoad(int n) {
        byte[] key = new byte[Keys.KEY_BYTES];
        byte[] value = new byte[Keys.VALUE_BYTES];
        for (int i = 0; i < n; i++) {
            Keys.key(i, key);
            Keys.value(i, 0, value);
            put(key, value);
        }
    }

    /** Makes every write durable on the storage device (a no-op for in-heap maps). */
    void sync();

    /** Releases everything; for a file-backed store the files stay and can be opened again. */
    @Override
    void close();
}
