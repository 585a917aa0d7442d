"""Task change notifications inside one process, fed by whichever process made the change."""
