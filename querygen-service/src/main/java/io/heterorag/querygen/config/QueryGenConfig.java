package io.heterorag.querygen.config;

import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Everything querygen-service reads under heterorag.* (Quarkus' own quarkus.* and the Kafka
 * channels' mp.messaging.* keys aside). docs/configuration.md is generated from this interface: the
 * Javadoc of each method is the key's meaning there (ConfigurationDocTest in cli keeps it equal).
 */
@ConfigMapping(prefix = "heterorag")
public interface QueryGenConfig {

    /** heterorag.querygen.*: the service itself. */
    QueryGen querygen();

    /** heterorag.models.*: the query generator model. */
    Models models();

    interface QueryGen {

        /** Longest question, in characters; longer: INVALID_ARGUMENT naming this key. */
        @WithDefault("8192")
        int maxQuestionChars();

        /** Most report texts per request. */
        @WithDefault("64")
        int maxReportTexts();

        /** Longest report text, in characters. */
        @WithDefault("32768")
        int maxReportChars();

        /** Tokens the generator's tagged output may take; 0: the bundle's generation_config.json max_new_tokens. */
        @WithDefault("0")
        int maxNewTokens();

        /** Words per query (a graph query: per side of its comma) the tagged grammar admits. */
        @WithDefault("16")
        int maxWords();

        /**
         * Terms shared by the retrieved reports that the rule-based builder adds to the question's terms, at
         * most; 0: the question's terms only. On MedPix (bundled data) the reports' terms cost diagnosis
         * top-5 (docs/query-generator.md); where similar cases' reports name the disease they may help.
         */
        @WithDefault("6")
        int reportTerms();
    }

    interface Models {

        /**
         * The Multi-corpora Query Generator: a generator bundle directory (docs/generator.md, trained by job
         * kind mqg) decoded under the tagged grammar; unset or empty: the rule-based keyword builder. A bundle
         * announced on heterorag.models with kind mqg replaces it.
         */
        Optional<String> mqgBundle();

        /** cpu, cuda or auto (CUDA where the GPU build of ONNX Runtime and a device are there, else CPU). */
        @WithDefault("auto")
        String executionProvider();

        /** ONNX Runtime intra-op threads per session; 0: its default (one per core). */
        @WithDefault("0")
        int intraOpThreads();
    }
}
