package io.heterorag.querygen;

import io.heterorag.localkafka.KafkaBrokerTestResource;
import io.quarkus.test.common.QuarkusTestResource;

/** One real KRaft broker for every @QuarkusTest of this module (heterorag.models announcements). */
@QuarkusTestResource(value = KafkaBrokerTestResource.class, restrictToAnnotatedClass = false)
public class KafkaForAllTests {
}
