package io.heterorag.model.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

class QuestionOnlyBaselineTest {

    static final List<String> QUESTIONS = List.of(
            "Is there a fracture of the femur?", "Is there a fracture in the skull?", "Is a fracture present?",
            "Is the heart size normal?", "Is the liver normal?", "Are the kidneys normal?", "Is the brain normal in size?",
            "Which side is the lesion on?", "Which side is the mass on?");
    static final List<String> ANSWERS = List.of("Yes", "yes", "yes.", "No", "no", "no", "no", "Left", "left");

    @Test
    void learnsWhatTheWordsOfTheQuestionPredict() {
        QuestionOnlyBaseline b = QuestionOnlyBaseline.train(QUESTIONS, ANSWERS);
        for (int i = 0; i < QUESTIONS.size(); i++) {
            assertEquals(VqaScoring.normalize(ANSWERS.get(i)), b.predict(QUESTIONS.get(i)), QUESTIONS.get(i));
        }
        // unseen questions: "fracture" was always "yes", "normal" always "no", "which side" always "left"
        assertEquals("yes", b.predict("is there a fracture of the rib"));
        assertEquals("no", b.predict("is the spleen normal"));
        assertEquals("left", b.predict("which side is the effusion on"));
        // no known word: the bias alone, which follows the class frequencies (no: 4 of 9)
        assertEquals("no", b.predict("zzz"));
    }

    @Test
    void theMajorityAnswerIsTheMostFrequentNormalisedAnswer() {
        // normalised: yes ×3, no ×4, left ×2
        assertEquals("no", QuestionOnlyBaseline.majorityAnswer(ANSWERS));
        assertEquals("no", QuestionOnlyBaseline.train(QUESTIONS, ANSWERS).majority());
        // a tie goes to the answer seen first
        assertEquals("yes", QuestionOnlyBaseline.majorityAnswer(List.of("Yes", "no")));
        assertThrows(IllegalArgumentException.class, () -> QuestionOnlyBaseline.train(List.of("q"), List.of()));
    }
}
