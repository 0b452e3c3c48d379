package io.heterorag.guard;

import java.util.Set;

/** Who is calling: an API key's name or a platform service's certificate name, and the roles it holds. */
public record Caller(String name, Set<String> roles) {

    /** The roles of the public and internal APIs; see {@link CallGuard#requiredRole}. */
    public static final String CLINICAL = "clinical";
    public static final String ML = "ml";
    public static final String INGEST = "ingest";
    public static final String INTERNAL = "internal";
    public static final Set<String> ALL_ROLES = Set.of(CLINICAL, ML, INGEST, INTERNAL);

    public static final Caller ANONYMOUS = new Caller("anonymous", ALL_ROLES);
}
