"""faq-feedback: the chatbot's feedback on answers, turned into training data."""
