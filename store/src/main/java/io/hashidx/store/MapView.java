package io.hashidx.store;

import java.util.AbstractCollection;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;
import java.util.random.RandomGenerator;

/**
 * The {@link ConcurrentMap} that {@link HashIndex#asMap} returns: every call encodes its arguments with
 * the codecs and makes one call on the index, so the conditional operations ({@code putIfAbsent},
 * {@code replace}, {@code remove(key, value)}) are the index's atomic ones, and the default
 * {@code compute}/{@code merge} methods of ConcurrentMap build on them. Values compare by their
 * encodings. The collection views read and write through to the index; their iterators are the
 * index's weakly consistent iterator (never a ConcurrentModificationException), started at the first
 * bucket so that an unchanged map iterates in one order, and their {@code remove} removes the key
 * last returned.
 *
 * <p>A key longer than the file allows cannot be present: queries with one answer null or false, and
 * writes fail with the index's KEY_TOO_LONG error.
 */
final class MapView<K, V> extends AbstractMap<K, V> implements ConcurrentMap<K, V> {
    /**
     * The views iterate from bucket 0, slot 0, not from a random start as the index's own iterator
     * does: an unchanged map then iterates in the same order every time, as Java's maps do (toString,
     * equals and a keySet walked twice agree).
     */
    private static final RandomGenerator FROM_THE_START = () -> 0L;

    private final HashIndex index;
    private final Codec<K> keys;
    private final Codec<V> values;
    private Set<K> keySet;
    private Collection<V> valueCollection;
    private Set<Map.Entry<K, V>> entrySet;

    MapView(HashIndex index, Codec<K> keys, Codec<V> values) {
        this.index = index;
        this.keys = Objects.requireNonNull(keys, "keyCodec");
        this.values = Objects.requireNonNull(values, "valueCodec");
    }

    // ---------------------------------------------------------------- encoding

    private byte[] encodeKey(Object key) {
        @SuppressWarnings("unchecked")
        K k = (K) Objects.requireNonNull(key, "null keys are not allowed");
        return Objects.requireNonNull(keys.encode(k), "the key codec encoded a key as null");
    }

    private byte[] encodeValue(Object value) {
        @SuppressWarnings("unchecked")
        V v = (V) Objects.requireNonNull(value, "null values are not allowed");
        return Objects.requireNonNull(values.encode(v), "the value codec encoded a value as null");
    }

    /** Whether a key of these bytes can be in the file (a longer one cannot, and the index refuses to look). */
    private boolean storable(byte[] key) {
        return key.length <= index.maxKeyLength();
    }

    private K decodeKey(byte[] bytes) {
        try {
            return keys.decode(bytes);
        } catch (IllegalArgumentException e) {
            throw HashIndexException.wrongCodec(index.path(), "key", bytes.length, keys, e);
        }
    }

    private V decodeValue(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            return values.decode(bytes);
        } catch (IllegalArgumentException e) {
            throw HashIndexException.wrongCodec(index.path(), "value", bytes.length, values, e);
        }
    }

    // ---------------------------------------------------------------- Map

    @Override
    public int size() {
        return (int) Math.min(index.size(), Integer.MAX_VALUE);
    }

    @Override
    public boolean isEmpty() {
        return index.size() == 0;
    }

    @Override
    public boolean containsKey(Object key) {
        byte[] k = encodeKey(key);
        return storable(k) && index.contains(k);
    }

    @Override
    public boolean containsValue(Object value) {
        byte[] v = encodeValue(value);
        for (Iterator<Map.Entry<byte[], byte[]>> it = index.iterator(FROM_THE_START); it.hasNext(); ) {
            if (Arrays.equals(it.next().getValue(), v)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public V get(Object key) {
        byte[] k = encodeKey(key);
        return storable(k) ? decodeValue(index.get(k)) : null;
    }

    @Override
    public V put(K key, V value) {
        byte[] k = encodeKey(key);
        return decodeValue(index.putReturningPrevious(k, encodeValue(value)));
    }

    @Override
    public V remove(Object key) {
        byte[] k = encodeKey(key);
        return storable(k) ? decodeValue(index.removeReturningPrevious(k)) : null;
    }

    @Override
    public void clear() {
        for (Iterator<Map.Entry<byte[], byte[]>> it = index.iterator(FROM_THE_START); it.hasNext(); ) {
            index.remove(it.next().getKey());
        }
    }

    @Override
    public V putIfAbsent(K key, V value) {
        byte[] k = encodeKey(key);
        return decodeValue(index.putIfAbsent(k, encodeValue(value)));
    }

    @Override
    public boolean remove(Object key, Object value) {
        byte[] k = encodeKey(key);
        if (value == null) {
            return false;
        }
        byte[] v = encodeValue(value);
        return storable(k) && index.remove(k, v);
    }

    @Override
    public boolean replace(K key, V oldValue, V newValue) {
        byte[] k = encodeKey(key);
        byte[] expected = encodeValue(oldValue);
        byte[] v = encodeValue(newValue);
        return storable(k) && index.replace(k, expected, v);
    }

    @Override
    public V replace(K key, V value) {
        byte[] k = encodeKey(key);
        byte[] v = encodeValue(value);
        return storable(k) ? decodeValue(index.replace(k, v)) : null;
    }

    @Override
    public Set<K> keySet() {
        Set<K> s = keySet;
        return s != null ? s : (keySet = new KeySet());
    }

    @Override
    public Collection<V> values() {
        Collection<V> c = valueCollection;
        return c != null ? c : (valueCollection = new Values());
    }

    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        Set<Map.Entry<K, V>> s = entrySet;
        return s != null ? s : (entrySet = new EntrySet());
    }

    /** Map equality, with values compared by the value codec (so byte[] values by content). */
    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        if (!(o instanceof Map<?, ?> m) || m.size() != size()) {
            return false;
        }
        try {
            for (Map.Entry<K, V> e : entrySet()) {
                Object other = m.get(e.getKey());
                if (other == null || !sameValue(e.getValue(), other)) {
                    return false;
                }
            }
        } catch (ClassCastException | NullPointerException e) {
            return false;
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = 0;
        for (Map.Entry<K, V> e : entrySet()) {
            h += e.hashCode();
        }
        return h;
    }

    @SuppressWarnings("unchecked")
    private boolean sameValue(V mine, Object other) {
        try {
            return values.equal(mine, (V) other);
        } catch (ClassCastException e) {
            return false;
        }
    }

    @SuppressWarnings("unchecked")
    private boolean sameKey(K mine, Object other) {
        try {
            return keys.equal(mine, (K) other);
        } catch (ClassCastException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- views

    /** The index's iterator, decoding each entry; {@code remove} removes the key it returned last. */
    private final class ViewIterator<T> implements Iterator<T> {
        private final Iterator<Map.Entry<byte[], byte[]>> raw = index.iterator(FROM_THE_START);
        private final Function<Map.Entry<byte[], byte[]>, T> make;
        private byte[] last;

        ViewIterator(Function<Map.Entry<byte[], byte[]>, T> make) {
            this.make = make;
        }

        @Override
        public boolean hasNext() {
            return raw.hasNext();
        }

        @Override
        public T next() {
            if (!raw.hasNext()) {
                throw new NoSuchElementException();
            }
            Map.Entry<byte[], byte[]> e = raw.next();
            T t = make.apply(e);
            last = e.getKey();
            return t;
        }

        @Override
        public void remove() {
            if (last == null) {
                throw new IllegalStateException("next() was not called, or remove() was already called for its element");
            }
            index.remove(last);
            last = null;
        }
    }

    private final class KeySet extends AbstractSet<K> {
        @Override
        public Iterator<K> iterator() {
            return new ViewIterator<>(e -> decodeKey(e.getKey()));
        }

        @Override
        public int size() {
            return MapView.this.size();
        }

        @Override
        public boolean isEmpty() {
            return MapView.this.isEmpty();
        }

        @Override
        public boolean contains(Object o) {
            return containsKey(o);
        }

        @Override
        public boolean remove(Object o) {
            byte[] k = encodeKey(o);
            return storable(k) && index.remove(k);
        }

        @Override
        public void clear() {
            MapView.this.clear();
        }
    }

    private final class Values extends AbstractCollection<V> {
        @Override
        public Iterator<V> iterator() {
            return new ViewIterator<>(e -> decodeValue(e.getValue()));
        }

        @Override
        public int size() {
            return MapView.this.size();
        }

        @Override
        public boolean isEmpty() {
            return MapView.this.isEmpty();
        }

        @Override
        public boolean contains(Object o) {
            return containsValue(o);
        }

        /** Removes one key that holds this value (by encoding), if any. */
        @Override
        public boolean remove(Object o) {
            byte[] v = encodeValue(o);
            for (Iterator<Map.Entry<byte[], byte[]>> it = index.iterator(FROM_THE_START); it.hasNext(); ) {
                Map.Entry<byte[], byte[]> e = it.next();
                if (Arrays.equals(e.getValue(), v) && index.remove(e.getKey(), v)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public void clear() {
            MapView.this.clear();
        }
    }

    private final class EntrySet extends AbstractSet<Map.Entry<K, V>> {
        @Override
        public Iterator<Map.Entry<K, V>> iterator() {
            return new ViewIterator<>(e -> new ViewEntry(decodeKey(e.getKey()), decodeValue(e.getValue())));
        }

        @Override
        public int size() {
            return MapView.this.size();
        }

        @Override
        public boolean isEmpty() {
            return MapView.this.isEmpty();
        }

        @Override
        public boolean contains(Object o) {
            if (!(o instanceof Map.Entry<?, ?> e) || e.getKey() == null || e.getValue() == null) {
                return false;
            }
            try {
                byte[] k = encodeKey(e.getKey());
                byte[] v = encodeValue(e.getValue());
                return storable(k) && Arrays.equals(index.get(k), v);
            } catch (ClassCastException wrongType) {
                return false;
            }
        }

        @Override
        public boolean remove(Object o) {
            if (!(o instanceof Map.Entry<?, ?> e) || e.getKey() == null || e.getValue() == null) {
                return false;
            }
            try {
                return MapView.this.remove(e.getKey(), e.getValue());
            } catch (ClassCastException wrongType) {
                return false;
            }
        }

        @Override
        public void clear() {
            MapView.this.clear();
        }
    }

    /** An entry as the iterator saw it; {@code setValue} writes through to the index. */
    private final class ViewEntry implements Map.Entry<K, V> {
        private final K key;
        private V value;

        ViewEntry(K key, V value) {
            this.key = key;
            this.value = value;
        }

        @Override
        public K getKey() {
            return key;
        }

        @Override
        public V getValue() {
            return value;
        }

        @Override
        public V setValue(V newValue) {
            Objects.requireNonNull(newValue, "null values are not allowed");
            V old = value;
            put(key, newValue);
            value = newValue;
            return old;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Map.Entry<?, ?> e && e.getKey() != null && e.getValue() != null
                    && sameKey(key, e.getKey()) && sameValue(value, e.getValue());
        }

        @Override
        public int hashCode() {
            return keys.hash(key) ^ values.hash(value);
        }

        @Override
        public String toString() {
            return key + "=" + value;
        }
    }
}
