package io.heterorag.model.text;

import java.nio.LongBuffer;
import java.util.Map;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/** Runs a BERT-style ONNX graph on a padded batch of tokenizer encodings (input_ids, attention_mask[, token_type_ids]). */
final class BertInputs {

    interface Reader<T> {
        T read(OrtSession.Result result, long[] mask, int len) throws OrtException;
    }

    private BertInputs() {
    }

    static <T> T run(OrtSession session, Encoding[] encodings, Reader<T> reader) throws OrtException {
        int batch = encodings.length;
        int len = encodings[0].getIds().length;
        long[] ids = new long[batch * len];
        long[] mask = new long[batch * len];
        long[] types = new long[batch * len];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(encodings[b].getIds(), 0, ids, b * len, len);
            System.arraycopy(encodings[b].getAttentionMask(), 0, mask, b * len, len);
            System.arraycopy(encodings[b].getTypeIds(), 0, types, b * len, len);
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] shape = {batch, len};
        try (OnnxTensor tIds = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
                OnnxTensor tMask = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
                OnnxTensor tTypes = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape)) {
            Map<String, OnnxTensor> inputs = session.getInputNames().contains("token_type_ids")
                    ? Map.of("input_ids", tIds, "attention_mask", tMask, "token_type_ids", tTypes)
                    : Map.of("input_ids", tIds, "attention_mask", tMask);
            try (OrtSession.Result result = session.run(inputs)) {
                return reader.read(result, mask, len);
            }
        }
    }
}
