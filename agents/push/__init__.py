"""HTTP push to subscribers: each push subscription's topic delivered to its URL, in order
per story, with retries, signatures and a record of what the receiver refused."""
