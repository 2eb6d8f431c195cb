package io.hashidx.store.jcstress;

import static io.hashidx.store.jcstress.SharedIndex.INDEX;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * Two writers of one key (they share its bucket's stripe): the second then reads. It sees its own
 * write or the first writer's later one, whole; the final value is the later write, and if the second
 * writer read the first one's value, that one came last.
 */
@JCStressTest
@Outcome(id = {"3, 3", "3, 2", "2, 2"}, expect = Expect.ACCEPTABLE, desc = "writes in some order, read after its own")
@Outcome(id = "2, 3", expect = Expect.FORBIDDEN, desc = "the value read came first but is not the final one")
@Outcome(expect = Expect.FORBIDDEN, desc = "torn, another key's, missing, or older than the reader's own write")
@State
public class TwoWriters {
    private final int k = SharedIndex.nextKey();
    private final byte[] key = SharedIndex.key(k);

    public TwoWriters() {
        INDEX.put(key, SharedIndex.value(k, 1));
    }

    @Actor
    public void first() {
        INDEX.put(key, SharedIndex.value(k, 2));
    }

    @Actor
    public void second(II_Result r) {
        INDEX.put(key, SharedIndex.value(k, 3));
        r.r1 = SharedIndex.write(k, INDEX.get(key));
    }

    @Arbiter
    public void last(II_Result r) {
        r.r2 = SharedIndex.write(k, INDEX.get(key));
    }
}
