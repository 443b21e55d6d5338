CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE TABLE users (
	id VARCHAR NOT NULL,
	name VARCHAR NOT NULL,
	full_name VARCHAR NOT NULL,
	device_platform INTEGER NOT NULL,
	language VARCHAR NOT NULL,
	auth_id VARCHAR NOT NULL,
	auth_code VARCHAR NOT NULL,
	profile TEXT NOT NULL,
	data TEXT NOT NULL,
	updated_at DOUBLE NOT NULL,
	CONSTRAINT pk_users PRIMARY KEY (id)
);
CREATE TABLE conversations (
	bot VARCHAR NOT NULL,
	id VARCHAR NOT NULL,
	user_id VARCHAR NOT NULL,
	environment VARCHAR NOT NULL,
	state VARCHAR NOT NULL,
	conversation_no INTEGER NOT NULL,
	node VARCHAR,
	asking VARCHAR,
	language VARCHAR NOT NULL,
	data TEXT NOT NULL,
	entities TEXT NOT NULL,
	team VARCHAR,
	version INTEGER NOT NULL,
	created_at DOUBLE NOT NULL,
	updated_at DOUBLE NOT NULL,
	CONSTRAINT pk_conversations PRIMARY KEY (bot, id),
	CONSTRAINT fk_conversations_user_id_users FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_conversations_user_id ON conversations (user_id);
CREATE TABLE history (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	conversation_id VARCHAR NOT NULL,
	bot VARCHAR NOT NULL,
	conversation_no INTEGER NOT NULL,
	sender VARCHAR NOT NULL,
	message TEXT NOT NULL,
	turn_id VARCHAR NOT NULL,
	created_at DOUBLE NOT NULL,
	CONSTRAINT fk_history_bot_conversation_id_conversations FOREIGN KEY(bot, conversation_id) REFERENCES conversations (bot, id) ON DELETE CASCADE
);
CREATE INDEX ix_history_conversation ON history (bot, conversation_id, conversation_no, id);
CREATE TABLE invocations (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	turn_id VARCHAR NOT NULL,
	bot VARCHAR NOT NULL,
	conversation_id VARCHAR NOT NULL,
	node VARCHAR NOT NULL,
	kind VARCHAR NOT NULL,
	dialect VARCHAR NOT NULL,
	environment VARCHAR NOT NULL,
	method VARCHAR NOT NULL,
	url TEXT NOT NULL,
	request_headers TEXT NOT NULL,
	request_body TEXT NOT NULL,
	status INTEGER,
	response_body TEXT,
	latency_ms DOUBLE NOT NULL,
	error TEXT,
	created_at DOUBLE NOT NULL,
	CONSTRAINT fk_invocations_bot_conversation_id_conversations FOREIGN KEY(bot, conversation_id) REFERENCES conversations (bot, id) ON DELETE CASCADE
);
CREATE INDEX ix_invocations_bot ON invocations (bot, id);
CREATE INDEX ix_invocations_conversation ON invocations (conversation_id, id);
CREATE INDEX ix_conversations_state ON conversations (bot, state);
CREATE TABLE businesses (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	name VARCHAR NOT NULL,
	bot VARCHAR NOT NULL,
	active INTEGER NOT NULL,
	created_at DOUBLE NOT NULL
);
CREATE TABLE teams (
	business_id BIGINT NOT NULL,
	name VARCHAR NOT NULL,
	active INTEGER NOT NULL,
	created_at DOUBLE NOT NULL,
	CONSTRAINT pk_teams PRIMARY KEY (business_id, name),
	CONSTRAINT fk_teams_business_id_businesses FOREIGN KEY(business_id) REFERENCES businesses (id)
);
CREATE TABLE agents (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
	name VARCHAR NOT NULL,
	business_id BIGINT NOT NULL,
	team VARCHAR NOT NULL,
	token_hash VARCHAR NOT NULL,
	active INTEGER NOT NULL,
	created_at DOUBLE NOT NULL,
	CONSTRAINT uq_agents_token_hash UNIQUE (token_hash),
	CONSTRAINT fk_agents_business_id_team_teams FOREIGN KEY(business_id, team) REFERENCES teams (business_id, name)
);
CREATE TABLE credentials (
	client_id VARCHAR NOT NULL,
	token_hash VARCHAR NOT NULL,
	businesses TEXT NOT NULL,
	created_at DOUBLE NOT NULL,
	CONSTRAINT pk_credentials PRIMARY KEY (client_id)
);
CREATE TABLE assignments (
	bot VARCHAR NOT NULL,
	conversation_id VARCHAR NOT NULL,
	agent_id BIGINT NOT NULL,
	agent_name VARCHAR NOT NULL,
	claimed_at DOUBLE NOT NULL,
	CONSTRAINT pk_assignments PRIMARY KEY (bot, conversation_id),
	CONSTRAINT fk_assignments_bot_conversation_id_conversations FOREIGN KEY(bot, conversation_id) REFERENCES conversations (bot, id) ON DELETE CASCADE
);
CREATE TABLE answers (
	bot VARCHAR NOT NULL,
	conversation_id VARCHAR NOT NULL,
	message_id VARCHAR NOT NULL,
	digest VARCHAR NOT NULL,
	turn_id VARCHAR NOT NULL,
	answer TEXT NOT NULL,
	created_at DOUBLE NOT NULL,
	CONSTRAINT pk_answers PRIMARY KEY (bot, conversation_id, message_id),
	CONSTRAINT fk_answers_bot_conversation_id_conversations FOREIGN KEY(bot, conversation_id) REFERENCES conversations (bot, id) ON DELETE CASCADE
);
CREATE TABLE releases (
	bot VARCHAR NOT NULL,
	number INTEGER NOT NULL,
	digest VARCHAR NOT NULL,
	files TEXT NOT NULL,
	author VARCHAR NOT NULL,
	note TEXT NOT NULL,
	created_at DOUBLE NOT NULL,
	CONSTRAINT pk_releases PRIMARY KEY (bot, number)
);
CREATE TABLE current_releases (
	bot VARCHAR NOT NULL,
	number INTEGER NOT NULL,
	updated_at DOUBLE NOT NULL,
	CONSTRAINT pk_current_releases PRIMARY KEY (bot),
	CONSTRAINT fk_current_releases_bot_number_releases FOREIGN KEY(bot, number) REFERENCES releases (bot, number)
);
INSERT INTO alembic_version (version_num) VALUES ('0004');
