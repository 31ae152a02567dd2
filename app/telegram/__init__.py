"""The site's Telegram bot: what members say to it (link, yes and no to a scope's sentence,
stop, replies), updates by webhook or long polling, the team's answers in the chat, and one-tap
sticker sets. It sits above the notifier (a reply joins a campaign's conversation) and the
consent area (a yes is a ledger grant); the notifier's ``telegram`` channel sends campaigns."""
