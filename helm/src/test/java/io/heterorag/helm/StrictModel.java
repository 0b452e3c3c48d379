package io.heterorag.helm;

import java.beans.Introspector;
import java.beans.PropertyDescriptor;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * Reads rendered manifests into fabric8's Kubernetes model and rejects what the model does not know.
 * fabric8's classes keep unknown fields in an additionalProperties map instead of failing (so
 * FAIL_ON_UNKNOWN_PROPERTIES alone would pass a typo); this walks every parsed object and fails on any
 * non-empty additionalProperties, naming the path. Wrong types (a string where an int belongs) fail
 * in Jackson already. An apiVersion/kind the model does not have comes back generic: allowed only for
 * the custom resources listed (KEDA, Prometheus Operator), whose fields the tests check one by one.
 */
final class StrictModel {

    static final Set<String> CUSTOM_KINDS = Set.of("keda.sh/v1alpha1/ScaledObject", "monitoring.coreos.com/v1/ServiceMonitor");
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    private StrictModel() {
    }

    /** Every document of a multi-document YAML stream, typed. */
    static List<HasMetadata> parse(String yaml) {
        List<HasMetadata> out = new ArrayList<>();
        for (Map<String, Object> doc : ChartTest.docs(yaml)) {
            String json = SERIALIZATION.asJson(doc);
            KubernetesResource r = SERIALIZATION.unmarshal(json, KubernetesResource.class);
            String id = doc.get("apiVersion") + "/" + doc.get("kind");
            if (r instanceof GenericKubernetesResource && !CUSTOM_KINDS.contains(id)) {
                throw new AssertionError("not a Kubernetes kind the model knows: " + id);
            }
            if (!(r instanceof GenericKubernetesResource)) {
                List<String> unknown = new ArrayList<>();
                walk(r, id + " " + ((HasMetadata) r).getMetadata().getName(), unknown);
                if (!unknown.isEmpty()) {
                    throw new AssertionError("fields the Kubernetes model does not have: " + unknown);
                }
            }
            out.add((HasMetadata) r);
        }
        return out;
    }

    private static void walk(Object o, String path, List<String> unknown) {
        if (o == null || o instanceof String || o instanceof Number || o instanceof Boolean || o instanceof Enum<?>) {
            return;
        }
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                walk(e, path + "[" + i++ + "]", unknown);
            }
            return;
        }
        if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> walk(v, path + "." + k, unknown));
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        try {
            for (PropertyDescriptor p : Introspector.getBeanInfo(o.getClass()).getPropertyDescriptors()) {
                Method get = p.getReadMethod();
                if (get == null || get.getParameterCount() != 0 || p.getName().equals("class")) {
                    continue;
                }
                Object v = get.invoke(o);
                if (p.getName().equals("additionalProperties")) {
                    if (v instanceof Map<?, ?> extra && !extra.isEmpty()) {
                        unknown.add(path + ": " + extra.keySet());
                    }
                } else {
                    walk(v, path + "." + p.getName(), unknown);
                }
            }
        } catch (ReflectiveOperationException | java.beans.IntrospectionException e) {
            throw new IllegalStateException(e);
        }
    }
}
