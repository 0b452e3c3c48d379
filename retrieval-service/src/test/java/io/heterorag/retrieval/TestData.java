package io.heterorag.retrieval;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.google.protobuf.ByteString;
import io.heterorag.proto.v1.AtlasRecord;
import io.heterorag.proto.v1.Corpus;
import io.heterorag.proto.v1.DocumentRecord;
import io.heterorag.proto.v1.GraphRelationRecord;
import io.heterorag.proto.v1.GraphTermRecord;
import io.heterorag.proto.v1.Image;
import io.heterorag.proto.v1.Modality;
import io.heterorag.proto.v1.ReportRecord;

/** Real MedPix 2.0 images and text for the tests (read from ../shared, never written). */
public final class TestData {

    public static final Path MEDPIX = Path.of(System.getProperty("medpix.dir", "../../shared/data/medpix-2.0"));

    private TestData() {
    }

    public static byte[] image(String name) {
        try {
            return Files.readAllBytes(MEDPIX.resolve("images").resolve(name + ".jpg"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static AtlasRecord report(String id, String imageName, String text) {
        return AtlasRecord.newBuilder().setId(id).setReport(ReportRecord.newBuilder().setModality(Modality.RADIOLOGY)
                .setImage(Image.newBuilder().setMediaType("image/jpeg").setData(ByteString.copyFrom(image(imageName))))
                .setText(text).setSource("medpix-2.0").putMetadata("diagnosis", "test")).build();
    }

    public static AtlasRecord term(String termId, String name, String definition) {
        return AtlasRecord.newBuilder().setId("term:" + termId).setTerm(GraphTermRecord.newBuilder().setTermId(termId).setName(name)
                .setDefinition(definition).setSource("test")).build();
    }

    public static AtlasRecord relation(String headId, String headName, String relation, String tailId, String tailName) {
        return AtlasRecord.newBuilder().setId("rel:" + headId + "|" + relation + "|" + tailId).setRelation(GraphRelationRecord.newBuilder()
                .setHeadId(headId).setHeadName(headName).setRelation(relation).setTailId(tailId).setTailName(tailName).setSource("test"))
                .build();
    }

    public static AtlasRecord document(String id, Corpus corpus, String title, String content) {
        return AtlasRecord.newBuilder().setId(id).setDocument(DocumentRecord.newBuilder().setCorpus(corpus).setTitle(title)
                .setContent(content).setSource("test")).build();
    }
}
