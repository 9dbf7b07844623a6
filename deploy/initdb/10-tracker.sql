-- Rasa's tracker store lives in its own database, beside the app's.
CREATE DATABASE sahay_tracker OWNER sahay;
