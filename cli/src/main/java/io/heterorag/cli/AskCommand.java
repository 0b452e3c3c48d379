package io.heterorag.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.heterorag.proto.v1.AnswerEvent;
import io.heterorag.proto.v1.AnswerRequest;
import io.heterorag.proto.v1.AnswerResponse;
import io.heterorag.proto.v1.ClinicalRagGrpc;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.KnowledgeHit;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ReportHit;
import io.heterorag.proto.v1.Task;

/** {@code ask --image PATH [--modality M] [--task T] --question TEXT [--json]}. */
final class AskCommand {

    private AskCommand() {
    }

    static int run(ManagedChannel channel, Args args) {
        Path image = Path.of(args.required("image"));
        if (!Files.isRegularFile(image)) {
            throw new Args.UsageException("image file not found: " + image);
        }
        AnswerRequest req = AnswerRequest.newBuilder()
                .setImage(Image.newBuilder().setData(ByteString.copyFrom(AtlasSources.read(image))).setMediaType(mediaType(image)))
                .setModality(Main.protoEnum(Modality.class, args.get("modality", "radiology"), "radiology, ophthalmology, pathology"))
                .setTask(Main.protoEnum(Task.class, args.get("task", "open_vqa"), "closed_vqa, open_vqa, report_generation"))
                .setQuestion(args.required("question"))
                .build();
        ClinicalRagGrpc.ClinicalRagBlockingStub stub = ClinicalRagGrpc.newBlockingStub(channel);
        if (args.flag("json")) {
            System.out.println(json(stub.answer(req)));
            return 0;
        }
        // human output streams: evidence first, then the answer as it is produced
        Iterator<AnswerEvent> events = stub.streamAnswer(req);
        while (events.hasNext()) {
            AnswerEvent e = events.next();
            switch (e.getEventCase()) {
                case EVIDENCE -> {
                    System.out.println("Reference reports:");
                    for (ReportHit r : e.getEvidence().getReportsList()) {
                        System.out.printf("  [%s] %.3f %s%n", r.getId(), r.getScore(), oneLine(r.getText(), 110));
                    }
                    System.out.println("Retrieved knowledge:");
                    for (KnowledgeHit k : e.getEvidence().getKnowledgeList()) {
                        System.out.printf("  [%s] %s %.4f %s: %s%n", k.getId(), k.getCorpus().name().toLowerCase(Locale.ROOT),
                                k.getScore(), k.getTitle(), oneLine(k.getText(), 80));
                    }
                    System.out.print("Answer: ");
                }
                case SEGMENT -> {
                    System.out.print(e.getSegment().getText());
                    System.out.flush();
                }
                case DONE -> {
                    System.out.printf("%n(trace %s)%n", e.getDone().getTraceId());
                    // answered from what worked: say what did not
                    e.getDone().getDegradedList().forEach(d -> System.out.printf("(degraded: %s — %s)%n", d.getStage(), d.getReason()));
                }
                default -> {
                }
            }
        }
        return 0;
    }

    static String json(AnswerResponse res) {
        try {
            return JsonFormat.printer().preservingProtoFieldNames().alwaysPrintFieldsWithNoPresence()
                    .omittingInsignificantWhitespace().print(res);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    static String mediaType(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".png")) {
            return "image/png";
        }
        if (n.endsWith(".jpg") || n.endsWith(".jpeg")) {
            return "image/jpeg";
        }
        if (n.endsWith(".dcm")) {
            return "application/dicom";
        }
        return ""; // the service sniffs the bytes
    }

    private static String oneLine(String s, int max) {
        String t = s.replaceAll("\\s+", " ").strip();
        return t.length() <= max ? t : t.substring(0, max - 1) + "…";
    }
}
