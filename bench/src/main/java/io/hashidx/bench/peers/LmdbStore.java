package io.hashidx.bench.peers;

import io.hashidx.bench.Keys;
import io.hashidx.bench.KeyValueStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.lmdbjava.Cursor;
import org.lmdbjava.Dbi;
import org.lmdbjava.DbiFlags;
import org.lmdbjava.Env;
import org.lmdbjava.EnvFlags;
import org.lmdbjava.PutFlags;
import org.lmdbjava.Txn;

/**
 * LMDB through lmdbjava with its default (fastest) {@code ByteBuffer} proxy and direct buffers, as
 * lmdbjava's tutorial shows. The environment is opened with {@code MDB_NOSYNC} (writes survive a
 * process crash, as hashidx's do, and {@link #sync()} makes them durable) and {@code MDB_NOTLS}
 * (read transactions are not tied to threads); {@code MDB_NORDAHEAD} on request for cold reads.
 * Each get renews a per-thread read-only transaction and resets it afterwards, the reuse LMDB's
 * documentation recommends for frequent readers; each put is its own write transaction. The bulk
 * load sorts the keys and appends them with {@code MDB_APPEND} through a cursor, committing every
 * 500,000 entries. LMDB must be given a map size up front; it is set far above what the data needs
 * (address space only: the file grows with the data).
 */
public final class LmdbStore implements KeyValueStore {
    private static final long MAP_SIZE = 64L << 30;
    private static final int COMMIT_EVERY = 500_000;

    private final Env<ByteBuffer> env;
    private final Dbi<ByteBuffer> dbi;
    private final ThreadLocal<Reader> readers;
    private final Queue<Reader> allReaders = new ConcurrentLinkedQueue<>();

    /** One thread's buffers and reusable read transaction. */
    private final class Reader {
        final ByteBuffer key = ByteBuffer.allocateDirect(Keys.KEY_BYTES);
        final ByteBuffer value = ByteBuffer.allocateDirect(Keys.VALUE_BYTES);
        Txn<ByteBuffer> txn;
    }

    private LmdbStore(Env<ByteBuffer> env, Dbi<ByteBuffer> dbi) {
        this.env = env;
        this.dbi = dbi;
        this.readers = ThreadLocal.withInitial(() -> {
            Reader r = new Reader();
            allReaders.add(r);
            return r;
        });
    }

    /** Opens (creating if needed) the environment in {@code dir}. */
    public static LmdbStore open(Path dir, long expectedEntries, boolean noReadAhead) {
        EnvFlags[] flags = noReadAhead
                ? new EnvFlags[] {EnvFlags.MDB_NOSYNC, EnvFlags.MDB_NOTLS, EnvFlags.MDB_NORDAHEAD}
                : new EnvFlags[] {EnvFlags.MDB_NOSYNC, EnvFlags.MDB_NOTLS};
        Env<ByteBuffer> env = Env.create()
                .setMapSize(MAP_SIZE)
                .setMaxDbs(1)
                .setMaxReaders(126)
                .open(dir.toFile(), flags);
        return new LmdbStore(env, env.openDbi("bench", DbiFlags.MDB_CREATE));
    }

    @Override
    public boolean get(byte[] key, byte[] value) {
        Reader r = readers.get();
        if (r.txn == null) {
            r.txn = env.txnRead();
        } else {
            r.txn.renew();
        }
        try {
            r.key.clear().put(key).flip();
            ByteBuffer found = dbi.get(r.txn, r.key);
            if (found == null) {
                return false;
            }
            found.get(value, 0, found.remaining());
            return true;
        } finally {
            r.txn.reset();
        }
    }

    @Override
    public void put(byte[] key, byte[] value) {
        Reader r = readers.get();
        r.key.clear().put(key).flip();
        r.value.clear().put(value).flip();
        try (Txn<ByteBuffer> txn = env.txnWrite()) {
            dbi.put(txn, r.key, r.value);
            txn.commit();
        }
    }

    /** Sorts the keys in LMDB's order (the sort is part of the load) and appends them. */
    @Override
    public void bulkLoad(int n) {
        long[] heads = Keys.headsInKeyOrder(n);
        byte[] key = new byte[Keys.KEY_BYTES];
        byte[] value = new byte[Keys.VALUE_BYTES];
        ByteBuffer k = ByteBuffer.allocateDirect(Keys.KEY_BYTES);
        ByteBuffer v = ByteBuffer.allocateDirect(Keys.VALUE_BYTES);
        int i = 0;
        while (i < n) {
            try (Txn<ByteBuffer> txn = env.txnWrite()) {
                Cursor<ByteBuffer> cursor = dbi.openCursor(txn);
                int end = Math.min(n, i + COMMIT_EVERY);
                for (; i < end; i++) {
                    Keys.keyFromHead(heads[i], key);
                    Keys.valueFromHead(heads[i], 0, value);
                    k.clear().put(key).flip();
                    v.clear().put(value).flip();
                    cursor.put(k, v, PutFlags.MDB_APPEND);
                }
                cursor.close();
                txn.commit();
            }
        }
    }

    @Override
    public void sync() {
        env.sync(true);
    }

    @Override
    public void close() {
        for (Reader r : allReaders) {
            if (r.txn != null) {
                r.txn.close();
            }
        }
        dbi.close();
        env.close();
    }
}
