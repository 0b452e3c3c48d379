package io.heterorag.generation.rest;

import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.jboss.resteasy.reactive.RestForm;
import org.jboss.resteasy.reactive.multipart.FileUpload;

/** POST /v1/answer as multipart/form-data: the fields of AnswerRequest, the image as a file part. */
public class AnswerForm {

    @RestForm
    @Schema(description = "The image file (PNG, JPEG or DICOM); its part's Content-Type is passed on as the media type "
            + "(application/octet-stream: sniffed from the bytes). Leave it out only with options.skip_reports.",
            type = org.eclipse.microprofile.openapi.annotations.enums.SchemaType.STRING, format = "binary")
    public FileUpload image;

    @RestForm
    @Schema(description = "The question; required for OPEN_VQA and CLOSED_VQA, may be empty for REPORT_GENERATION.")
    public String question;

    @RestForm
    @Schema(description = "OPEN_VQA (default), CLOSED_VQA or REPORT_GENERATION (case-insensitive).")
    public String task;

    @RestForm
    @Schema(description = "RADIOLOGY, OPHTHALMOLOGY or PATHOLOGY (case-insensitive); empty: inferred (DICOM tag), else RADIOLOGY.")
    public String modality;

    @RestForm("request_id")
    @Schema(description = "The caller's id for the request, echoed in the trace.")
    public String requestId;

    @RestForm
    @Schema(description = "AnswerOptions as protobuf JSON with the proto's field names, e.g. {\"report_k\":3,\"corpora\":[\"BOOK\"]}.")
    public String options;
}
