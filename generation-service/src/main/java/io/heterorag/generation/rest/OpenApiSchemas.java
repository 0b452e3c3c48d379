package io.heterorag.generation.rest;

import io.heterorag.proto.json.ProtoSchemas;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.AnswerSegment;
import io.heterorag.proto.v1.Evidence;
import io.heterorag.proto.v1.Feedback;
import io.heterorag.proto.v1.SubmitFeedbackResponse;
import io.heterorag.proto.v1.Trace;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;

/** Adds the proto messages the REST API reads and writes to /q/openapi (mp.openapi.filter). */
public class OpenApiSchemas implements OASFilter {

    @Override
    public void filterOpenAPI(OpenAPI openApi) {
        ProtoSchemas.addTo(openApi, AnswerRequest.getDescriptor(), AnswerResponse.getDescriptor(), Evidence.getDescriptor(),
                AnswerSegment.getDescriptor(), Feedback.getDescriptor(), SubmitFeedbackResponse.getDescriptor(), Trace.getDescriptor());
    }
}
