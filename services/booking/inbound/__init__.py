"""Calendar clients' answers (iMIP) read from the organizer mailbox over IMAP."""
