"""Sticker packs: built from pack.toml and source images with Pillow, for WhatsApp, Telegram and
Signal, earned as rewards and downloaded by those who hold them."""
