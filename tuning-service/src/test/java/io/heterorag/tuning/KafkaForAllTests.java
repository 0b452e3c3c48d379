package io.heterorag.tuning;

import io.heterorag.localkafka.KafkaBrokerTestResource;
import io.quarkus.test.common.QuarkusTestResource;

/** One real KRaft broker for every @QuarkusTest of this module (one Quarkus start). */
@QuarkusTestResource(value = KafkaBrokerTestResource.class, restrictToAnnotatedClass = false)
public class KafkaForAllTests {
}
