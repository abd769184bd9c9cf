"""The log: event models, the record envelope, the codec and the stores."""
