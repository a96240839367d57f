"""faq-store: export, restore and copy everything a deployment holds (faq_core.store.dump)."""
